"""The web client's ICE restart in Chromium, in the network lab (issue 17, part 5): the
customer's page runs in a Chromium inside a lab namespace, the companion's in this machine's
own; mid-call the customer's address changes under it (``Lab.switch``).  The page restarts ICE
on the same call (``web_client/src/lib/serverlink.ts``: a new peer connection, after a new
Socket.IO connection) and the call goes on: media back on both pages within 5 s, one session,
no ``media_lost`` end, the minutes billed equal to the minutes served, the ledger clean."""

from __future__ import annotations

import asyncio
import contextlib
import math
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bench.netlab.lab import Lab
from bench.netlab.profiles import PROFILES
from bench.netlab.quality import CHROMIUM_ARGS, wrapper_for
from bench.netlab.tun import unavailable_reason
from kernel.clock import ScaledClock
from metering.check import check_ledger
from store.models import Call as CallRow
from store.models import MeteredSession
from tests.harness.rig import Rig, RigFactory
from tests.web.conftest import CHROMIUM, DIST
from tests.web.test_browser import (
    DESKTOP,
    PHONE,
    Person,
    _is,
    _media_grew,
    become_companion,
    call,
    eventually,
    hang_up_and_settle,
    inbound,
    open_person,
    sign_up,
    top_up,
    user_id,
)

REASON = unavailable_reason() or (
    None if Path(CHROMIUM).exists() and (DIST / "index.html").exists() else "no Chromium or dist"
)
pytestmark = [
    pytest.mark.timeout(240),
    pytest.mark.alone,
    pytest.mark.xdist_group("browser"),
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]

SPEED = 6.0  # billing minutes pass 6× faster
#: the customer page's connection on its newest peer connection (the restart's)
NEWEST = """
() => { const pcs = window.__pcs.filter((pc) => pc.connectionState !== "closed");
  return [window.__pcs.length, pcs.length ? pcs[pcs.length - 1].connectionState : null]; }
"""


@contextlib.asynccontextmanager
async def chromiums(lab: Lab, url: str) -> AsyncIterator[tuple[Any, Any]]:
    """(the customer's Chromium, inside client ``c1``'s namespace; the companion's, here)."""
    from playwright.async_api import async_playwright

    # getUserMedia wants a secure context; the lab's server is plain HTTP on 10.N.0.1
    args = [*CHROMIUM_ARGS, f"--unsafely-treat-insecure-origin-as-secure={url}"]
    with tempfile.TemporaryDirectory(prefix="peiliao-web-restart-") as tmp:
        async with async_playwright() as p:
            inside = await p.chromium.launch(
                executable_path=str(wrapper_for(lab, "c1", Path(tmp))), args=args
            )
            try:
                here = await p.chromium.launch(
                    executable_path=shutil.which(CHROMIUM) or CHROMIUM, args=args
                )
                try:
                    yield inside, here
                finally:
                    await here.close()
            finally:
                await inside.close()


def served_ms(meter: dict[str, Any], ended_ms: int) -> int:
    """Time with media flowing, from the meter's (at_ms, up) marks, up to the end."""
    total, since = 0, None
    for at, up in meter["media"]:
        if up and since is None:
            since = at
        elif not up and since is not None:
            total, since = total + at - since, None
    return total + (ended_ms - since if since is not None else 0)


async def counted(rig: Rig, model: Any, customer_id: str) -> int:
    async with rig.db.reading() as s:
        n: int = await s.scalar(
            select(func.count()).select_from(model).where(model.customer_id == customer_id)
        )
    return n


async def test_a_page_whose_address_changes_restarts_ice_and_the_call_goes_on(
    make_rig: RigFactory,
) -> None:
    async with (
        Lab({"c1": PROFILES["network_switch"]}) as lab,
        make_rig(
            ScaledClock(anchor_epoch_s=time.time(), speed=SPEED),
            host=lab.server_address,
            ice_host_addresses=lab.server_address,
            web_dist_dir=str(DIST),
            # these run on the fast clock too: keep them at real-time scale
            sms_code_ttl_s=3000,
            ring_timeout_s=300,
            away_timeout_s=1200,
            resume_grace_s=600,
            media_silence_s=10.0,
            real_name_before_payment=True,
        ) as rig,
        chromiums(lab, rig.url) as (inside, here),
    ):
        cust = await open_person(rig, inside, "customer", DESKTOP)
        comp = await open_person(rig, here, "companion", PHONE)
        await sign_up(rig, cust)
        await sign_up(rig, comp)
        comp_id = await become_companion(rig, comp, "小雨")
        await top_up(cust, "50")
        await call(cust, comp, comp_id, "voice")
        for who in (cust, comp):
            await eventually(lambda w=who: _is(w, "live"), 45, f"{who.name} live", cust, comp)
        for who in (cust, comp):
            first = await inbound(who)
            await eventually(
                lambda w=who, f=first: _media_grew(w, f, video=False),
                10,
                f"{who.name} receives audio",
                cust,
                comp,
            )
        await asyncio.sleep(3)

        cust_id = await user_id(rig, cust.phone)
        call_view = await rig.signaling.calls.open_call_of(cust_id)
        call_id = call_view["call_id"]
        old = rig.signaling.rooms.get(call_id).participants[cust_id]
        await lab.switch("c1")
        switched = time.monotonic()
        # Within 5 s: the page's new peer connection is up, the relay hears the customer on a
        # new participant leg, and audio grows again on both pages.
        await eventually(
            lambda: _restarted(cust), 5, "the customer page's new peer connection", cust, comp
        )
        room = rig.signaling.rooms.get(call_id)
        assert room is not None, "the call's media room went away"
        part = room.participants.get(cust_id)
        assert part is not None and part is not old
        left = max(0.5, 5 - (time.monotonic() - switched))
        for who in (cust, comp):
            first = await inbound(who)
            await eventually(
                lambda w=who, f=first: _media_grew(w, f, video=False),
                left,
                f"{who.name} receives audio again",
                cust,
                comp,
            )
        back_s = time.monotonic() - switched
        assert back_s < 5, back_s
        print(f"media back on both pages {back_s:.2f} s after the switch")
        for who in (cust, comp):
            assert await _is(who, "live"), who.name
        await asyncio.sleep(3)  # and it keeps flowing
        for who in (cust, comp):
            first = await inbound(who)
            await eventually(
                lambda w=who, f=first: _media_grew(w, f, video=False), 5, who.name, cust, comp
            )
        charged = await hang_up_and_settle(rig, cust, comp)

        # One call, one meter, ended by the hang-up (not by the media liveness rule).
        assert await counted(rig, CallRow, cust_id) == 1
        assert await counted(rig, MeteredSession, cust_id) == 1
        async with rig.db.reading() as s:
            meter = await s.scalar(
                select(MeteredSession).where(MeteredSession.customer_id == cust_id)
            )
        assert meter is not None and meter.id == call_id
        assert meter.end_reason == "hangup", meter.end_reason
        # Billed minutes = the minutes media flowed (through the switch), each charged once.
        state = meter.meter
        served_min = served_ms(state, state["ended_at_ms"]) / 60_000
        assert meter.billed_minutes == math.ceil(served_min), (meter.billed_minutes, state)
        assert charged == meter.charged_fen == meter.billed_minutes * meter.rate_fen_per_min
        report = await check_ledger(rig.db)
        assert report.ok, report.to_json()
        for who in (cust, comp):
            assert who.errors == [], (who.name, who.errors)


async def _restarted(cust: Person) -> bool:
    made, state = await cust.page.evaluate(NEWEST)
    return bool(made >= 2 and state == "connected")
