"""Every private aiortc name the relay relies on, in one place (aiortc 1.16.0, pinned).

aiortc has no public API for taking RTP packets off a receiver before its jitter buffer, nor for
sending pre-built packets on a sender; ``docs/media-research.md`` shows where each hook sits and
why.  ``check()`` asserts that every name still exists and is called at start-up and by a test,
so an aiortc upgrade fails loudly instead of silently forwarding nothing.  mypy does not model
name mangling, hence ``getattr``/``setattr`` with string names.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aioice.ice
import aiortc
import pylibsrtp
from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender
from aiortc.codecs import is_rtx
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcicetransport import RTCIceGatherer
from aiortc.rtcrtpreceiver import StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTP_HISTORY_SIZE,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from media.nack import RetryingNacks
from media.rtp import Light

SUPPORTED_AIORTC = "1.16.0"

_JITTER = "_RTCRtpReceiver__jitter_buffer"
_CODECS = "_RTCRtpReceiver__codecs"
_REMOTE_STREAMS = "_RTCRtpReceiver__remote_streams"
_HISTORY = "_RTCRtpSender__rtp_history"
_RTCP_SSRC = "_RTCRtpReceiver__rtcp_ssrc"
_ESTIMATOR = "_RTCRtpReceiver__remote_bitrate_estimator"
_NACKS = "_RTCRtpReceiver__nack_generator"
_RTX_SSRC = "_RTCRtpReceiver__rtx_ssrc"
_RTT = "_RTCRtpSender__rtt"
#: aiortc's clock (``aiortc.clock.current_ms``) counts milliseconds from the NTP epoch
_NTP_EPOCH_OFFSET_S = 2_208_988_800
_SR_FIELDS = (
    "_RTCRtpSender__ntp_timestamp",
    "_RTCRtpSender__rtp_timestamp",
    "_RTCRtpSender__octet_count",
    "_RTCRtpSender__packet_count",
)


class AiortcDrift(RuntimeError):
    """The installed aiortc lacks a private name the relay relies on."""


def check() -> None:
    """Fail loudly if aiortc is not the version whose internals the relay was built on."""
    if aiortc.__version__ != SUPPORTED_AIORTC:
        raise AiortcDrift(
            f"aiortc {aiortc.__version__} is installed; media/ relies on the internals of "
            f"{SUPPORTED_AIORTC} (see docs/media-research.md): pin it or port the hooks"
        )
    params = inspect.signature(RTCRtpReceiver._handle_rtp_packet).parameters
    if list(params)[:3] != ["self", "packet", "arrival_time_ms"]:
        raise AiortcDrift("RTCRtpReceiver._handle_rtp_packet changed its signature")
    for owner, name in (
        (RTCRtpReceiver, "_send_rtcp_pli"),
        (RTCRtpReceiver, "_send_rtcp"),
        (RTCRtpSender, "_handle_rtcp_packet"),
        (RTCRtpSender, "_retransmit"),
        (RTCDtlsTransport, "_send_rtp"),
    ):
        if not callable(getattr(owner, name, None)):
            raise AiortcDrift(f"{owner.__name__}.{name} is gone")
    source = inspect.getsource(RTCRtpReceiver.__init__) + inspect.getsource(
        RTCRtpReceiver._handle_rtp_packet
    )
    if "__jitter_buffer" not in source:
        raise AiortcDrift("RTCRtpReceiver no longer has the jitter buffer the tap replaces")
    if not hasattr(aioice.ice.Connection, "get_component_candidates") or "_protocols" not in (
        inspect.getsource(aioice.ice.Connection.__init__)
    ):
        raise AiortcDrift("aioice's Connection no longer gathers host candidates as expected")
    if "self._connection" not in inspect.getsource(RTCIceGatherer.__init__):
        raise AiortcDrift("RTCIceGatherer no longer keeps its aioice Connection")
    if not callable(getattr(RTCDtlsTransport, "_handle_rtcp_data", None)):
        raise AiortcDrift("RTCDtlsTransport._handle_rtcp_data is gone")
    dtls_source = inspect.getsource(RTCDtlsTransport)
    for name in ("_tx_srtp", "_rx_srtp", "_rtp_router", "_rtp_header_extensions_map", "_state"):
        if f"self.{name}" not in dtls_source:
            raise AiortcDrift(f"RTCDtlsTransport no longer has {name}")
    if "self._nominated" not in inspect.getsource(aioice.ice.Connection.__init__):
        raise AiortcDrift("aioice's Connection no longer keeps its nominated pairs")
    if "def datagram_received" not in inspect.getsource(aioice.ice.StunProtocol):
        raise AiortcDrift("aioice's StunProtocol no longer receives datagrams itself")
    _check_remb()
    receiver_init = inspect.getsource(RTCRtpReceiver.__init__)
    handle_rtp = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    for name in (_CODECS, _REMOTE_STREAMS, _RTCP_SSRC, _ESTIMATOR, _NACKS, _RTX_SSRC):
        if name.replace("_RTCRtpReceiver", "self.") not in receiver_init:
            raise AiortcDrift(f"RTCRtpReceiver no longer has {name}")
    if not callable(getattr(RTCRtpReceiver, "_send_rtcp_nack", None)):
        raise AiortcDrift("RTCRtpReceiver._send_rtcp_nack is gone")
    # receive_video mirrors these steps of aiortc's receive path
    for step in ("remote_bitrate_estimator.add(", "unwrap_rtx(", "nack_generator.add(packet)"):
        if step not in handle_rtp:
            raise AiortcDrift(f"RTCRtpReceiver._handle_rtp_packet no longer does {step}...)")
    sender_source = inspect.getsource(RTCRtpSender)
    for name in (_HISTORY, _RTT, *_SR_FIELDS):
        if name.replace("_RTCRtpSender", "") not in sender_source:
            raise AiortcDrift(f"RTCRtpSender no longer has {name}")


def _check_remb() -> None:
    """REMB across the relay (``media.feedback``): aiortc's receiver sends its estimator's REMB
    through ``self._send_rtcp`` (which the relay rewrites per instance), and its router hands a
    REMB to the senders whose SSRCs it lists (where the forward reads the subscriber's)."""
    handle_rtp = inspect.getsource(RTCRtpReceiver._handle_rtp_packet)
    if "pack_remb_fci" not in handle_rtp or "self._send_rtcp(rtcp_packet)" not in handle_rtp:
        raise AiortcDrift("RTCRtpReceiver no longer sends its REMB through _send_rtcp")
    if "unpack_remb_fci" not in inspect.getsource(RtpRouter.route_rtcp):
        raise AiortcDrift("aiortc's RtpRouter no longer routes REMB to the senders it lists")
    if "RTCP_PSFB_APP" not in inspect.getsource(RTCRtpSender._handle_rtcp_packet):
        raise AiortcDrift("RTCRtpSender no longer receives REMB")


class _Tap:
    """Stands in for the receiver's jitter buffer: keeps each packet for the forwarder."""

    def __init__(self) -> None:
        self.packets: list[RtpPacket] = []

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        self.packets.append(packet)
        return False, None  # no PLI request, no frame to decode


def tap_receiver(receiver: RTCRtpReceiver, forward: Callable[[RtpPacket], Awaitable[None]]) -> None:
    """Hand every RTP packet of ``receiver`` to ``forward``: after SRTP, RTX unwrapping, NACK
    and receiver statistics (which keep running), instead of the jitter buffer and decoder."""
    tap = _Tap()
    setattr(receiver, _JITTER, tap)
    original = receiver._handle_rtp_packet

    async def handle(packet: RtpPacket, arrival_time_ms: int) -> None:
        await original(packet, arrival_time_ms=arrival_time_ms)
        queued, tap.packets = tap.packets, []
        for p in queued:
            await forward(p)

    setattr(receiver, "_handle_rtp_packet", handle)  # noqa: B010 (a method, not a field)


def intercept_sender_rtcp(
    sender: RTCRtpSender, on_packet: Callable[[Any], Awaitable[None]]
) -> None:
    """Let ``on_packet`` see every RTCP packet routed to ``sender`` (PLI/FIR for the source),
    before aiortc's own handling (NACK → RTX from the history, RTT from reports)."""
    original = sender._handle_rtcp_packet

    async def handle(packet: Any) -> None:
        await on_packet(packet)
        await original(packet)

    setattr(sender, "_handle_rtcp_packet", handle)  # noqa: B010


def remember_sent(
    sender: RTCRtpSender,
    ntp_time: int,
    timestamp: int,
    payload_bytes: int,
    packet: RtpPacket | None = None,
) -> None:
    """Record a packet we sent on ``sender``'s behalf: in its sender-report counters, and
    (``packet``) in its retransmission history, so a NACK is answered with RTX."""
    if packet is not None:
        getattr(sender, _HISTORY)[packet.sequence_number % RTP_HISTORY_SIZE] = packet
    ntp, rtp, octets, count = _SR_FIELDS
    setattr(sender, ntp, ntp_time)
    setattr(sender, rtp, timestamp)
    setattr(sender, octets, getattr(sender, octets) + payload_bytes)
    setattr(sender, count, getattr(sender, count) + 1)


def was_sent(sender: RTCRtpSender, sequence_number: int) -> bool:
    """Whether ``sender``'s retransmission history still holds this packet (RTX can repair it)."""
    held = getattr(sender, _HISTORY).get(sequence_number % RTP_HISTORY_SIZE)
    return held is not None and held.sequence_number == sequence_number


async def send_rtp(sender: RTCRtpSender, data: bytes) -> None:
    await sender.transport._send_rtp(data)


def _pair(sender: RTCRtpSender) -> Any:
    """The nominated candidate pair ``sender``'s RTP goes out on, or None while its transport is
    not connected (yet, or any more)."""
    return _nominated(sender.transport)


def _nominated(transport: RTCDtlsTransport) -> Any:
    """``transport``'s nominated candidate pair, or None while it is not connected."""
    if transport._state is not DtlsState.CONNECTED:
        return None
    return transport.transport._connection._nominated.get(1)


def can_send(sender: RTCRtpSender) -> bool:
    """Whether ``send_rtp_now`` would send now."""
    return _pair(sender) is not None


def send_rtp_now(sender: RTCRtpSender, data: bytes) -> bool:
    """Protect and send one RTP packet at once, without aiortc's five nested coroutines
    (``_send_rtp`` → aioice ``send``/``sendto``/``send_data``): the same SRTP session and the
    same nominated candidate pair.  False when the transport is not connected (yet, or any
    more): the packet is dropped."""
    pair = _pair(sender)
    if pair is None:
        return False
    pair.protocol.transport.sendto(sender.transport._tx_srtp.protect(data), pair.remote_addr)
    return True


def send_rtcp_now(transport: RTCDtlsTransport, data: bytes) -> bool:
    """Protect (SRTCP) and send one RTCP packet at once on ``transport``'s nominated pair;
    False when the transport is not connected (the packet is dropped)."""
    pair = _nominated(transport)
    if pair is None:
        return False
    pair.protocol.transport.sendto(transport._tx_srtp.protect_rtcp(data), pair.remote_addr)
    return True


def rtcp_ssrc(receiver: RTCRtpReceiver) -> int | None:
    """The SSRC ``receiver`` sends its RTCP from (None until negotiated)."""
    value: int | None = getattr(receiver, _RTCP_SSRC)
    return value


def fast_rtp(
    transport: RTCDtlsTransport, route: Callable[[int], Callable[[bytes], None] | None]
) -> None:
    """Take RTP packets whose SSRC ``route`` claims straight off the UDP socket: decrypt and
    hand them to the handler synchronously, instead of aioice's STUN parse attempt (an
    exception per datagram), its queue, and a wake-up of the DTLS transport's task.  Everything
    else (STUN, DTLS, RTCP, packets of SSRCs not claimed) takes aiortc's own path.  The SSRC is
    in clear in the SRTP header, so the choice is made before decrypting."""
    connection = transport.transport._connection
    for protocol in connection._protocols:
        original = protocol.datagram_received

        def datagram_received(data: bytes, addr: tuple[Any, ...], original: Any = original) -> None:
            if len(data) >= 12 and 127 < data[0] < 192 and not 191 < data[1] < 209:
                handler = route(int.from_bytes(data[8:12], "big"))
                if handler is not None and transport._state is DtlsState.CONNECTED:
                    try:
                        plain = transport._rx_srtp.unprotect(data)
                    except pylibsrtp.Error:
                        return
                    handler(plain)
                    return
            original(data, addr)

        setattr(protocol, "datagram_received", datagram_received)  # noqa: B010


def rtp_receiver_of(transport: RTCDtlsTransport, ssrc: int) -> RTCRtpReceiver | None:
    """The receiver aiortc routes ``ssrc`` to (once it has seen it or it was signalled)."""
    receiver = transport._rtp_router.ssrc_table.get(ssrc)
    return receiver if isinstance(receiver, RTCRtpReceiver) else None


def header_extensions_map(transport: RTCDtlsTransport) -> Any:
    return transport._rtp_header_extensions_map


def count_received(receiver: RTCRtpReceiver, packet: Any) -> bool:
    """What aiortc's receiver does with a packet besides decoding it: drop it if the receiver
    is disabled or the payload type unknown; else feed the statistics its receiver reports are
    built from.  Whether the packet is to be used."""
    return receiver._enabled and _counted(receiver, packet) is not None


def _counted(receiver: RTCRtpReceiver, packet: Any) -> Any:
    """The codec of ``packet``'s payload type, its packet counted in the statistics the
    receiver reports are built from; None (not counted) for a payload type not negotiated."""
    codec = getattr(receiver, _CODECS).get(packet.payload_type)
    if codec is None:
        return None
    streams = getattr(receiver, _REMOTE_STREAMS)
    stats = streams.get(packet.ssrc)
    if stats is None:
        stats = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
    stats.add(packet)
    return codec


_background: set[asyncio.Future[Any]] = set()
#: where ``intercept_receiver_remb`` leaves its rewrite on the receiver, for ``receive_video``
_REMB_REWRITE = "_peiliao_remb_rewrite"


def _spawn(coroutine: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.ensure_future(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)


def arrival_ms() -> int:
    """Now on aiortc's receive clock (``aiortc.clock.current_ms``), without its datetimes."""
    return int((time.time() + _NTP_EPOCH_OFFSET_S) * 1000)


def receive_video(receiver: RTCRtpReceiver, packet: Light, arrival_time_ms: int) -> Light | None:
    """What aiortc's ``RTCRtpReceiver._handle_rtp_packet`` does with a packet before its jitter
    buffer, synchronously (its RTCP goes out as tasks): feed the bandwidth estimator (a REMB when
    it has a new estimate, passed through the relay's rewrite here, so only what the rewrite
    decides to send becomes a task: aiortc's estimator offers one per packet under overuse),
    drop the packet if the receiver is disabled or the payload type unknown, keep the
    statistics, unwrap RTX, and NACK what the sequence numbers say is missing.  The packet to
    forward (the original of an RTX packet), or None."""
    if not receiver._enabled:
        return None
    estimator = getattr(receiver, _ESTIMATOR)
    abs_send_time = packet.extensions.abs_send_time
    if estimator is not None and abs_send_time is not None:
        remb = estimator.add(
            abs_send_time=abs_send_time,
            arrival_time_ms=arrival_time_ms,
            payload_size=len(packet.payload) + packet.padding_size,
            ssrc=packet.ssrc,
        )
        if remb is not None and getattr(receiver, _RTCP_SSRC) is not None:
            bitrate, ssrcs = remb
            rewrite = getattr(receiver, _REMB_REWRITE, None)
            value = bitrate if rewrite is None else rewrite(bitrate, ssrcs)
            if value is not None:
                _spawn(send_remb(receiver, value, ssrcs))
    codec = _counted(receiver, packet)
    if codec is None:
        return None
    if is_rtx(codec):
        original_ssrc = getattr(receiver, _RTX_SSRC).get(packet.ssrc)
        apt = codec.parameters.get("apt")
        payload = packet.payload
        if original_ssrc is None or len(payload) < 2 or not isinstance(apt, int):
            return None
        if apt not in getattr(receiver, _CODECS):
            return None
        packet = Light(
            apt,
            packet.marker,
            int.from_bytes(payload[:2], "big"),
            packet.timestamp,
            original_ssrc,
            payload[2:],
            packet.extensions.audio_level,
            abs_send_time,
        )
    nacks = getattr(receiver, _NACKS)
    if nacks is not None:
        if type(nacks) is RetryingNacks:
            ask = nacks.update(packet.sequence_number)
            if ask:
                _spawn(receiver._send_rtcp_nack(packet.ssrc, ask))
        elif nacks.add(packet):
            _spawn(receiver._send_rtcp_nack(packet.ssrc, sorted(nacks.missing)))
    return packet


def retry_nacks(receiver: RTCRtpReceiver, sender: RTCRtpSender) -> RetryingNacks | None:
    """Make ``receiver`` (a video receiver: audio has no NACKs) ask again for what is still
    missing, every round trip of the leg ``sender`` (the relay's sender on the same connection,
    which measures it from the receiver reports) (``media.nack``).  None for audio."""
    if getattr(receiver, _NACKS) is None:
        return None
    nacks = RetryingNacks(rtt=lambda: getattr(sender, _RTT, None))
    setattr(receiver, _NACKS, nacks)
    return nacks


def recovering(receiver: RTCRtpReceiver, sequence_number: int) -> bool:
    """Whether ``receiver`` is still asking its publisher for this packet (``retry_nacks``)."""
    nacks = getattr(receiver, _NACKS, None)
    return type(nacks) is RetryingNacks and nacks.recovering(sequence_number)


def intercept_receiver_remb(
    receiver: RTCRtpReceiver, rewrite: Callable[[int, list[int]], int | None]
) -> None:
    """Pass every REMB that ``receiver``'s bitrate estimator sends through ``rewrite(bitrate,
    ssrcs)``: the bitrate to send instead, or None to send nothing.  Other RTCP goes as it is.
    ``receive_video`` applies the same rewrite before it sends anything."""
    setattr(receiver, _REMB_REWRITE, rewrite)
    original = receiver._send_rtcp

    async def send(packet: Any) -> None:
        remb = remb_of(packet)
        if remb is not None:
            value = rewrite(*remb)
            if value is None:
                return
            packet = RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP,
                ssrc=packet.ssrc,
                media_ssrc=packet.media_ssrc,
                fci=pack_remb_fci(value, remb[1]),
            )
        await original(packet)

    setattr(receiver, "_send_rtcp", send)  # noqa: B010


async def send_remb(receiver: RTCRtpReceiver, bitrate: int, ssrcs: list[int]) -> bool:
    """Send a REMB of ``bitrate`` from ``receiver`` (past ``intercept_receiver_remb``); False
    when it has no RTCP SSRC yet (not negotiated)."""
    rtcp_ssrc = getattr(receiver, _RTCP_SSRC)
    if rtcp_ssrc is None:
        return False
    packet = RtcpPsfbPacket(
        fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(bitrate, ssrcs)
    )
    await RTCRtpReceiver._send_rtcp(receiver, packet)
    return True


def remb_of(packet: Any) -> tuple[int, list[int]] | None:
    """(bitrate, ssrcs) if ``packet`` is a REMB."""
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
        try:
            return unpack_remb_fci(packet.fci)
        except ValueError:
            return None
    return None


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    await receiver._send_rtcp_pli(media_ssrc)


def ice_connections(pc: RTCPeerConnection) -> list[Any]:
    """The aioice ``Connection`` of each of ``pc``'s transports (before bundling, one per
    transceiver; they gather only once ``setLocalDescription`` runs)."""
    seen: dict[int, Any] = {}
    for t in pc.getTransceivers():
        connection = t.receiver.transport.transport.iceGatherer._connection
        seen[id(connection)] = connection
    return list(seen.values())


def watch_rtcp(transport: RTCDtlsTransport, on_rtcp: Callable[[], None]) -> None:
    """Call ``on_rtcp()`` for every RTCP datagram arriving on ``transport`` (the peer is there,
    even when it sends no media)."""
    original = transport._handle_rtcp_data

    async def handle(data: bytes) -> None:
        on_rtcp()
        await original(data)

    setattr(transport, "_handle_rtcp_data", handle)  # noqa: B010
