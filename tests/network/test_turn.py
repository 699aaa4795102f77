"""TURN for real: coturn (started by the ``coturn`` fixture with a REST shared secret) relays
calls whose clients are allowed nothing but relay candidates, and refuses credentials whose
time has passed.  The server issues the credentials (``media:config``, ``media/ice.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from aioice import stun, turn

from kernel.clock import FakeClock, SystemClock
from media.ice import turn_credentials
from tests.caller.test_caller import answering, calling, run_caller
from tests.harness.rig import RigFactory
from tests.network.conftest import Coturn

pytestmark = pytest.mark.timeout(90)


async def allocate(server: Coturn, username: str, password: str) -> tuple[str, int]:
    """A TURN allocation (RFC 8656 §7.2) with these credentials: the relayed address."""
    transport, _ = await asyncio.wait_for(
        turn.create_turn_endpoint(
            asyncio.DatagramProtocol,
            server_addr=("127.0.0.1", server.port),
            username=username,
            password=password,
        ),
        5,
    )
    try:
        relayed: tuple[str, int] = transport.get_extra_info("sockname")
        return relayed
    finally:
        transport.close()


async def test_coturn_allocates_for_fresh_credentials_and_refuses_expired_ones(
    coturn: Coturn,
) -> None:
    now_s = int(time.time())
    fresh = turn_credentials(coturn.secret, "u_fresh", now_s + 600)
    host, port = await allocate(coturn, *fresh)
    assert host == "127.0.0.1" and port > 0
    expired = turn_credentials(coturn.secret, "u_late", now_s - 60)
    with pytest.raises(stun.TransactionFailed) as refused:
        await allocate(coturn, *expired)
    assert refused.value.response.attributes["ERROR-CODE"][0] in (401, 438)
    forged = turn_credentials("not-the-secret", "u_forged", now_s + 600)
    with pytest.raises(stun.TransactionFailed):
        await allocate(coturn, *forged)
    log = coturn.log_text()
    assert "username=<" + fresh[0] + ">" in log and "ALLOCATE processed, success" in log


async def test_a_relay_only_call_completes_through_coturn(
    make_rig: RigFactory, coturn: Coturn
) -> None:
    async with make_rig(
        SystemClock(), ice_turn_urls=coturn.url, ice_turn_secret=coturn.secret
    ) as rig:
        comp = await rig.person("companion")
        answer = answering(rig, comp, "--relay-only")
        code, cust, err = await run_caller(
            *calling(rig, comp, "voice", "--seconds", "3", "--top-up", "1000", "--relay-only")
        )
        a_code, comp_side, a_err = await answer
    assert code == 0, (cust, err)
    assert a_code == 0, (comp_side, a_err)
    # Both legs chose a relayed candidate of their own; the server's side is its host one.
    assert cust["ice_pair"] == {"local": "relay", "remote": "host"}, cust
    assert comp_side["ice_pair"] == {"local": "relay", "remote": "host"}, comp_side
    assert cust["audio_rx_packets"] > 50 and comp_side["audio_rx_packets"] > 50
    log = coturn.log_text()
    for user in (cust["user_id"], comp.user_id):
        # An allocation, and a channel to the server's address (aioice binds one per peer).
        assert f":{user}>: incoming packet ALLOCATE processed, success" in log, user
        assert f":{user}>: incoming packet CHANNEL_BIND processed, success" in log, user
    assert cust["charged_fen"] == 300


async def test_expired_turn_credentials_fail_the_relay_only_caller_without_hanging(
    make_rig: RigFactory, coturn: Coturn
) -> None:
    # The server's clock is two hours behind: the hour-long credentials it issues have expired.
    behind = FakeClock(datetime.now(UTC) - timedelta(hours=2))
    async with make_rig(behind, ice_turn_urls=coturn.url, ice_turn_secret=coturn.secret) as rig:
        comp = await rig.person("companion")
        answer = answering(rig, comp)
        started = time.monotonic()
        code, cust, _ = await run_caller(
            *calling(rig, comp, "voice", "--seconds", "3", "--top-up", "1000", "--relay-only")
        )
        took_s = time.monotonic() - started
        # the companion's caller may have ended by itself already (the call ended when the
        # customer's caller gave up) or still be waiting: either way it is done with
        answer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await answer
    assert code != 0 and cust["error"]["code"] in ("ice_gathering", "media_not_connected"), cust
    assert took_s < 40
    assert "error 401: Unauthorized" in coturn.log_text()
