"""Network changes mid-call (issue 17, part 5), in the network lab: the customer's headless
caller runs in a namespace of its own and its address changes under it (``Lab.switch``).  It
notices (its selected pair's address is gone), reconnects Socket.IO and restarts ICE on the same
call; the relay replaces its peer connection (``media/room.py``).  The call goes on — one
session, its meter continuous, media back within 5 s, no ``media_lost`` end.  A caller that never
comes back is ended by the media liveness rule as before."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from bench.netlab.lab import Lab
from bench.netlab.profiles import PROFILES
from bench.netlab.tun import unavailable_reason
from kernel.clock import ScaledClock
from metering.check import check_ledger
from store.models import Call as CallRow
from tests.caller.test_caller import PEILIAO, answering, calling
from tests.harness.rig import Person, Rig, RigFactory

REASON = unavailable_reason()
pytestmark = [
    pytest.mark.timeout(150),
    pytest.mark.alone,
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]

SPEED = 6.0  # billing minutes pass 6× faster: a 24 s call is billed for 3 minutes


@contextlib.asynccontextmanager
async def caller_in(
    lab: Lab, cid: str, argv: list[str]
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``peiliao caller …`` inside client ``cid``'s namespace (its own host candidates: no
    ``--ice-loopback``); killed if still running at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEILIAO_")}
    proc = await asyncio.create_subprocess_exec(
        *lab.exec_argv(cid, [PEILIAO, "caller", *argv, "--json", "--no-token-cache"]),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def flowing_call(rig: Rig, comp: Person, timeout_s: float = 40) -> tuple[str, str]:
    """(call id, customer id) once the relay has the customer's media flowing."""
    calls = rig.signaling.calls
    async with asyncio.timeout(timeout_s):
        while True:
            view = await calls.open_call_of(comp.user_id)
            room = rig.signaling.rooms.get(view["call_id"]) if view else None
            if view is not None and room is not None:
                cust = view["customer"]["id"]
                part = room.participants.get(cust)
                if part is not None and part.rx_packets["audio"] > 50:
                    return view["call_id"], cust
            await asyncio.sleep(0.2)


async def calls_of(rig: Rig, customer_id: str) -> int:
    async with rig.db.reading() as s:
        n: int = await s.scalar(
            select(func.count()).select_from(CallRow).where(CallRow.customer_id == customer_id)
        )
    return n


async def test_an_address_change_restarts_ice_and_the_same_call_goes_on(
    make_rig: RigFactory,
) -> None:
    async with (
        Lab({"c1": PROFILES["network_switch"]}) as lab,
        make_rig(
            ScaledClock(time.time(), SPEED),
            host=lab.server_address,
            ice_host_addresses=lab.server_address,
        ) as rig,
    ):
        comp = await rig.person("companion")
        answer = answering(rig, comp, "--seconds", "60")
        argv = calling(rig, comp, "voice", "--seconds", "24", "--top-up", "5000")
        async with caller_in(lab, "c1", argv) as proc:
            call_id, cust_id = await flowing_call(rig, comp)
            await asyncio.sleep(3)
            old = rig.signaling.rooms.get(call_id).participants[cust_id]  # type: ignore[union-attr]
            new_address = await lab.switch("c1")
            switched = asyncio.get_running_loop().time()
            # Within 5 s the relay has the customer's media again, on a new peer connection.
            async with asyncio.timeout(5):
                while True:
                    room = rig.signaling.rooms.get(call_id)
                    assert room is not None, "the call's media room went away"
                    part = room.participants.get(cust_id)
                    now = asyncio.get_running_loop().time()
                    if part is not None and part is not old and part.last_rx > switched:
                        break
                    await asyncio.sleep(0.1)
            back_s = now - switched
            async with asyncio.timeout(60):
                out, err = await proc.communicate()
        code, cust = proc.returncode, json.loads(out)
        a_code, comp_side, a_err = await asyncio.wait_for(answer, 40)
        assert code == 0, (cust, err.decode()[-3000:])
        assert a_code == 0, (comp_side, a_err)
        # One session, ended by the hang-up, not by the liveness rule.
        assert cust["session_id"] == call_id == comp_side["session_id"]
        assert cust["end_reason"] == "hangup" and comp_side["end_reason"] == "hangup"
        assert await calls_of(rig, cust_id) == 1
        restarts = cust["ice_restarts"]
        assert [r["reason"] for r in restarts] == ["address_gone"], restarts
        assert restarts[0]["resumed_s"] is not None and restarts[0]["resumed_s"] < 5, restarts
        assert back_s < 5
        # Both sides hear each other's tone over the whole call (the companion kept its leg).
        assert cust["rx_tone_hz"] and comp_side["rx_tone_hz"]
        # The meter ran through the switch: billed minutes = elapsed minutes, each charged once.
        elapsed_min = cust["media_flowing_s"] * SPEED / 60
        assert cust["billed_minutes"] in (math.ceil(elapsed_min), math.ceil(elapsed_min) + 1), (
            cust,
            elapsed_min,
        )
        assert cust["charged_fen"] == cust["billed_minutes"] * cust["rate_fen_per_min"]
        report = await check_ledger(rig.db)
        assert report.ok, report.to_json()
        assert new_address == lab.address("c1", "b")


async def test_a_caller_gone_for_good_is_ended_by_the_media_liveness_rule(
    make_rig: RigFactory,
) -> None:
    async with (
        Lab({"c1": PROFILES["network_switch"]}) as lab,
        make_rig(
            ScaledClock(time.time(), SPEED),
            host=lab.server_address,
            ice_host_addresses=lab.server_address,
            media_silence_s=2.0,
            media_lost_s=4.0,
        ) as rig,
    ):
        comp = await rig.person("companion")
        answer = answering(rig, comp, "--seconds", "60")
        argv = calling(rig, comp, "voice", "--seconds", "40", "--top-up", "5000")
        async with caller_in(lab, "c1", argv) as proc:
            call_id, cust_id = await flowing_call(rig, comp)
            # Gone: its network switches and the process dies with it (no hang-up sent).
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
            await lab.switch("c1")
            _, comp_side, _ = await asyncio.wait_for(answer, 40)
        assert comp_side["session_id"] == call_id
        assert comp_side["end_reason"] == "media_lost", comp_side
        report = await check_ledger(rig.db)
        assert report.ok, report.to_json()
        assert await calls_of(rig, cust_id) == 1
