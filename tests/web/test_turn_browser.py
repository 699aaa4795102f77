"""A browser restricted to relay candidates (``iceTransportPolicy: "relay"``) calls through a
real coturn: both pages' selected candidate pair is relay on their side, and media arrives."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.rig import RigFactory
from tests.network.conftest import Coturn, coturn
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
    web_rig,
)

__all__ = ["coturn"]
pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("browser")]

# Before the page's scripts: every peer connection it makes may use relay candidates only.
RELAY_ONLY = """
(() => {
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = function (config, ...rest) {
    return new Original({ ...(config || {}), iceTransportPolicy: "relay" }, ...rest);
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})();
"""
SELECTED = """
async () => {
  const out = [];
  for (const pc of window.__pcs) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    stats.forEach((r) => {
      if (r.type === "transport" && r.selectedCandidatePairId) {
        const pair = stats.get(r.selectedCandidatePairId);
        out.push([stats.get(pair.localCandidateId).candidateType,
                  stats.get(pair.remoteCandidateId).candidateType]);
      }
    });
  }
  return out;
}
"""


async def relay_person(rig: Any, browser: Any, name: str, viewport: dict[str, int]) -> Person:
    who = await open_person(rig, browser, name, viewport)
    await who.page.context.add_init_script(RELAY_ONLY)
    return who


async def test_relay_only_pages_call_through_coturn(
    make_rig: RigFactory, browser: Any, coturn: Coturn
) -> None:
    async with web_rig(make_rig, ice_turn_urls=coturn.url, ice_turn_secret=coturn.secret) as rig:
        cust = await relay_person(rig, browser, "customer", DESKTOP)
        comp = await relay_person(rig, browser, "companion", PHONE)
        await sign_up(rig, cust)
        await sign_up(rig, comp)
        comp_id = await become_companion(rig, comp, "小雨")
        await top_up(cust, "50")
        await cust.page.goto(f"/companions/{comp_id}")
        await cust.page.wait_for_selector("text=小雨")
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
            assert await who.page.evaluate(SELECTED) == [["relay", "host"]], who.name
        await hang_up_and_settle(rig, cust, comp)
    log = coturn.log_text()
    assert log.count("incoming packet ALLOCATE processed, success") >= 2
    for who in (cust, comp):
        assert who.errors == [], (who.name, who.errors)
