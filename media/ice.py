"""ICE for the relay: where the server's peer connections listen, what they announce, and the
STUN/TURN servers (with per-session TURN credentials) handed to clients.

- Host candidates: on the addresses aioice finds (every non-loopback interface), or on
  ``PEILIAO_ICE_HOST_ADDRESSES``; bound inside ``PEILIAO_ICE_UDP_PORTS`` (``40000-40999``) when
  set, so a firewall needs only that range open.
- ``PEILIAO_ICE_PUBLIC_IP``: a server behind 1:1 NAT (a cloud VM) announces its public address
  next to each host candidate, with the same port (mediasoup's ``announcedIp``, LiveKit's
  ``node_ip``).  The server itself queries no STUN or TURN server: it is the reachable side.
- Clients get ``PEILIAO_ICE_STUN_URLS`` and ``PEILIAO_ICE_TURN_URLS``; TURN credentials are
  issued per user and session by the TURN REST scheme (coturn ``use-auth-secret``): the username
  is ``<expiry unix time>:<user id>``, the password base64(HMAC-SHA1(shared secret, username)),
  valid for ``PEILIAO_ICE_TURN_TTL_S``.

Only candidates of the server ever reach a client: a participant's own candidates go to the
server's peer connection and nowhere else, so neither side learns the other's address.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from aioice import turn
from aioice.candidate import Candidate, candidate_foundation, candidate_priority
from aioice.ice import StunProtocol
from aiortc import RTCConfiguration, RTCPeerConnection

from kernel.settings import parse_port_range
from media import rtc_internals


class PortsExhausted(RuntimeError):
    """Every UDP port of the configured range is in use."""


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class IcePolicy:
    host_addresses: tuple[str, ...] = ()
    public_ip: str = ""
    ports: tuple[int, int] | None = None
    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    turn_ttl_s: int = 3600

    @classmethod
    def from_settings(cls, settings: Any) -> IcePolicy:
        return cls(
            host_addresses=_split(settings.ice_host_addresses),
            public_ip=settings.ice_public_ip.strip(),
            ports=parse_port_range(settings.ice_udp_ports),
            stun_urls=_split(settings.ice_stun_urls),
            turn_urls=_split(settings.ice_turn_urls),
            turn_secret=settings.ice_turn_secret,
            turn_ttl_s=settings.ice_turn_ttl_s,
        )

    # -- the client's side ---------------------------------------------------------------------

    def client_servers(self, user_id: str, now_s: int) -> list[dict[str, Any]]:
        """The ``iceServers`` a participant's ``RTCPeerConnection`` should use."""
        servers: list[dict[str, Any]] = []
        if self.stun_urls:
            servers.append({"urls": list(self.stun_urls)})
        if self.turn_urls and self.turn_secret:
            username, credential = turn_credentials(
                self.turn_secret, user_id, now_s + self.turn_ttl_s
            )
            servers.append(
                {"urls": list(self.turn_urls), "username": username, "credential": credential}
            )
        return servers

    # -- the server's side ---------------------------------------------------------------------

    def peer_connection(self) -> RTCPeerConnection:
        """A server-side peer connection: no STUN/TURN of its own."""
        return RTCPeerConnection(RTCConfiguration(iceServers=[]))

    def bind(self, pc: RTCPeerConnection) -> None:
        """Make the ICE agents of ``pc``'s transports gather host candidates by this policy.
        Call after the transceivers exist and before ``setLocalDescription``."""
        if not self.host_addresses and self.ports is None:
            return
        for connection in rtc_internals.ice_connections(pc):
            connection.get_component_candidates = _gatherer(connection, self)

    def announce(self, sdp: str) -> str:
        """Add a public-address twin after each host candidate of the server's SDP."""
        if not self.public_ip:
            return sdp
        out = []
        for line in sdp.splitlines():
            out.append(line)
            match = _HOST_CANDIDATE.match(line)
            if match is not None and match["address"] != self.public_ip:
                out.append(
                    f"a=candidate:{match['foundation']}p {match['component']} udp "
                    f"{int(match['priority']) - 1} {self.public_ip} {match['port']} typ host"
                )
        return "\r\n".join(out) + "\r\n"


_HOST_CANDIDATE = re.compile(
    r"a=candidate:(?P<foundation>\S+) (?P<component>\d+) udp (?P<priority>\d+) "
    r"(?P<address>\S+) (?P<port>\d+) typ host",
    re.IGNORECASE,
)


def turn_credentials(secret: str, user_id: str, expires_s: int) -> tuple[str, str]:
    """TURN REST API credentials: (``expiry:user``, base64 HMAC-SHA1 of it)."""
    username = f"{expires_s}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def _gatherer(connection: Any, policy: IcePolicy) -> Any:
    """aioice's host gathering, on the policy's addresses and inside its port range."""

    async def get_component_candidates(
        component: int,
        addresses: list[str],
        timeout: int = 5,  # noqa: ASYNC109 (aioice's signature)
    ) -> list[Candidate]:
        loop = asyncio.get_running_loop()
        candidates = []
        for address in policy.host_addresses or addresses:
            try:
                transport, protocol = await _bind(loop, connection, address, policy.ports)
            except PortsExhausted:
                raise
            except OSError:
                continue  # as aioice does: an address that cannot be bound is left out
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, turn.UDP_SOCKET_BUFFER_SIZE)
            host, port = transport.get_extra_info("sockname")[:2]
            protocol.local_candidate = Candidate(
                foundation=candidate_foundation("host", "udp", host),
                component=component,
                transport="udp",
                priority=candidate_priority(component, "host"),
                host=host,
                port=port,
                type="host",
            )
            connection._protocols.append(protocol)
            candidates.append(protocol.local_candidate)
        return candidates

    return get_component_candidates


async def _bind(
    loop: asyncio.AbstractEventLoop, connection: Any, address: str, ports: tuple[int, int] | None
) -> tuple[asyncio.DatagramTransport, StunProtocol]:
    if ports is None:
        candidates = [0]
    else:
        low, high = ports
        candidates = list(range(low, high + 1))
        # Start anywhere in the range: consecutive sessions don't collide on the same port.
        start = secrets.randbelow(len(candidates))
        candidates = candidates[start:] + candidates[:start]
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    for port in candidates:
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: StunProtocol(connection), local_addr=(address, port), family=family
            )
        except OSError:
            if port == 0:
                raise
            continue
        return transport, protocol
    raise PortsExhausted(f"no free UDP port on {address} in the range {ports}")
