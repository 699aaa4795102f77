"""Does the lab do what it says?  UDP probes through every profile at once, each on a client of
its own, compared with the profile (and with the router's own counts).

Three phases, each on the same lab:

1. *Profiles*: each client streams up and down at ``rate_pps`` (small packets, well under any
   rate cap) for ``seconds``: loss, mean loss burst, one-way delay (median, p95), jitter (the
   deviation of delay), overtaking.
2. *Bottleneck*: the ``congested_down`` client is sent 1000-byte packets at twice its downlink
   cap: what gets through is the cap, the rest is dropped at the queue, and no packet waits
   longer than the queue holds.
3. *Switch*: the ``network_switch`` client streams up while its address changes mid-way: the
   server sees the old address, then the new one; a packet sent to the old address after the
   switch does not arrive.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
from typing import Any

from bench.netlab.lab import Lab
from bench.netlab.probe import IP_UDP_HEADER_BYTES, ProbeResult, bound, stream
from bench.netlab.profiles import PROFILES, SWITCHED_TO, Direction

SMALL_BYTES = 100
BULK_BYTES = 1000


def client_ids() -> dict[str, str]:
    """Profile name → the lab's client id for it."""
    return {name: f"c{k}" for k, name in enumerate(PROFILES, start=1)}


def check(spec: Direction, measured: ProbeResult) -> list[str]:
    """What in ``measured`` disagrees with ``spec`` beyond statistical tolerance."""
    problems = []
    n = measured.sent
    p = spec.mean_loss
    # Binomial spread, widened for bursts: a burst of mean length L makes the loss count vary
    # about 2L times as much (the losses come in clumps).
    clump = 2 / spec.ge_r if spec.bursty else 1.0
    spread = 4 * math.sqrt(max(p * (1 - p), 1 / n) * clump / n) + 2 / n
    if abs(measured.loss - p) > spread:
        problems.append(f"loss {measured.loss:.3f}, configured {p:.3f} (±{spread:.3f})")
    bursts = measured.loss_bursts()
    if spec.bursty and len(bursts) >= 10:
        mean_burst = sum(bursts) / len(bursts)
        want = 1 / spec.ge_r
        if not 0.6 * want <= mean_burst <= 1.5 * want:
            problems.append(f"mean loss burst {mean_burst:.2f}, configured {want:.2f}")
    elif p and bursts and sum(bursts) / len(bursts) > 1.5:
        problems.append(f"random loss came in bursts of {sum(bursts) / len(bursts):.2f}")
    median = measured.delay_ms(0.5)
    if spec.rate_kbit:
        # Below the cap on average, yet a probe sender on a busy machine catches up in bursts,
        # and a burst queues at the bottleneck: delay may grow up to what the queue holds.
        worst = spec.delay_ms + spec.queue_ms + 15
        if not spec.delay_ms - 2 <= median <= worst or measured.delay_ms(1.0) > worst:
            problems.append(f"delay {median:.1f}..{measured.delay_ms(1.0):.1f} ms, beyond {worst}")
        return problems
    if abs(median - spec.delay_ms) > 2 + 0.1 * spec.delay_ms:
        problems.append(f"median delay {median:.1f} ms, configured {spec.delay_ms:g} ms")
    if spec.jitter_ms:
        if abs(measured.jitter_ms - spec.jitter_ms) > 0.2 * spec.jitter_ms:
            problems.append(f"jitter {measured.jitter_ms:.1f} ms, configured {spec.jitter_ms:g}")
        if spec.reorder and not measured.reordered:
            problems.append("jitter with reordering allowed, yet no packet overtook another")
    else:
        if measured.jitter_ms > 2:
            problems.append(f"jitter {measured.jitter_ms:.1f} ms where none is configured")
        if measured.reordered:
            problems.append(f"{measured.reordered} packets overtook with no jitter configured")
    return problems


def _delta(before: dict[str, Any], after: dict[str, Any], cid: str, way: str) -> dict[str, int]:
    a, b = after["stats"][cid][way], before["stats"][cid][way]
    return {k: a[k] - b[k] for k in a}


async def _profiles(lab: Lab, rate_pps: float, seconds: float) -> list[dict[str, Any]]:
    ids = client_ids()
    count = int(rate_pps * seconds)
    before = await lab.stats()
    jobs = {}
    for name, cid in ids.items():
        prof = PROFILES[name]
        # up: the client's socket sends to the server's; down: the other way round.
        up = stream(
            bound(lab.socket(cid), lab.address(cid)),
            bound(_server_socket(), lab.server_address),
            rate_pps=rate_pps,
            count=count,
            size_bytes=SMALL_BYTES,
        )
        down = stream(
            bound(_server_socket(), lab.server_address),
            bound(lab.socket(cid), lab.address(cid)),
            rate_pps=rate_pps,
            count=count,
            size_bytes=SMALL_BYTES,
        )
        jobs[(name, "up")] = (prof.up, up)
        jobs[(name, "down")] = (prof.down, down)
    results = await asyncio.gather(*(job for _, job in jobs.values()))
    after = await lab.stats()
    rows = []
    for ((name, way), (spec, _)), result in zip(jobs.items(), results, strict=True):
        router = _delta(before, after, ids[name], way)
        problems = check(spec, result)
        dropped = router["lost"] + router["queue_dropped"]
        if result.sent - result.received != dropped:
            problems.append(
                f"{result.sent - result.received} probes missing, the router dropped {dropped}"
            )
        rows.append(
            {
                "profile": name,
                "direction": way,
                "configured": {
                    "loss": round(spec.mean_loss, 4),
                    "mean_burst": round(1 / spec.ge_r, 2) if spec.bursty else None,
                    "delay_ms": spec.delay_ms,
                    "jitter_ms": spec.jitter_ms,
                },
                "measured": result.summary(),
                "router": router,
                "problems": problems,
            }
        )
    return rows


def _server_socket() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


async def _bottleneck(lab: Lab, seconds: float) -> dict[str, Any]:
    name = "congested_down"
    cid = client_ids()[name]
    spec = PROFILES[name].down
    rate_pps = 2 * spec.rate_kbit * 1000 / 8 / (BULK_BYTES + IP_UDP_HEADER_BYTES)
    before = await lab.stats()
    result = await stream(
        bound(_server_socket(), lab.server_address),
        bound(lab.socket(cid), lab.address(cid)),
        rate_pps=rate_pps,
        count=int(rate_pps * seconds),
        size_bytes=BULK_BYTES,
    )
    router = _delta(before, await lab.stats(), cid, "down")
    problems = []
    if abs(result.throughput_kbit - spec.rate_kbit) > 0.1 * spec.rate_kbit:
        problems.append(f"throughput {result.throughput_kbit:.0f} kbit/s, cap {spec.rate_kbit:g}")
    worst_ms = spec.delay_ms + spec.queue_ms + 15
    if result.delay_ms(1.0) > worst_ms:
        problems.append(f"a packet waited {result.delay_ms(1.0):.0f} ms (> {worst_ms:g} ms)")
    if router["queue_dropped"] == 0 or router["lost"] != 0:
        problems.append(f"expected queue drops only, router says {router}")
    if result.sent - result.received != router["queue_dropped"]:
        problems.append("probes missing ≠ packets the queue dropped")
    return {
        "profile": name,
        "direction": "down",
        "configured": {
            "rate_kbit": spec.rate_kbit,
            "queue_ms": spec.queue_ms,
            "offered_kbit": round(2 * spec.rate_kbit),
        },
        "measured": result.summary() | {"delay_max_ms": round(result.delay_ms(1.0), 1)},
        "router": router,
        "problems": problems,
    }


async def _switch(lab: Lab, rate_pps: float, seconds: float) -> dict[str, Any]:
    name = "network_switch"
    cid = client_ids()[name]
    old = lab.address(cid, "a")
    server = bound(_server_socket(), lab.server_address)
    port = server.getsockname()[1]
    # An unbound-address socket: the kernel picks the source address per packet, as a client's
    # socket on 0.0.0.0 does, so the stream follows the default route to the new network.
    sender = lab.socket(cid)
    sender.setblocking(False)
    probe = asyncio.create_task(
        stream(
            sender,
            server,
            rate_pps=rate_pps,
            count=int(rate_pps * seconds),
            to=(lab.server_address, port),
        )
    )
    await asyncio.sleep(seconds / 2)
    new = await lab.switch(cid)
    switched_at = time.time()  # the probe's arrival times are the kernel's wall clock
    # Down to the old address after the switch: must not arrive.
    listener = bound(lab.socket(cid), "0.0.0.0")
    stale = await stream(
        bound(_server_socket(), lab.server_address),
        listener,
        rate_pps=100,
        count=20,
        linger_s=0.3,
        to=(old, listener.getsockname()[1]),
    )
    result = await probe
    sources = [a.source[0] for a in result.arrivals]
    order = [s for i, s in enumerate(sources) if i == 0 or sources[i - 1] != s]
    last_old = max((a.at_s for a in result.arrivals if a.source[0] == old), default=math.nan)
    first_new = min((a.at_s for a in result.arrivals if a.source[0] == new), default=math.nan)
    problems = []
    if order != [old, new]:
        problems.append(f"sources seen in order {order}, expected {[old, new]}")
    if stale.received:
        problems.append(f"{stale.received} packets to the old address arrived after the switch")
    gap_ms = (first_new - last_old) * 1000
    if not gap_ms < 1000:
        problems.append(f"{gap_ms:.0f} ms between the last old and the first new packet")
    return {
        "profile": name,
        "direction": "up",
        "configured": {"old": old, "new": new, "then": SWITCHED_TO.summary},
        "measured": result.summary()
        | {
            "sources": order,
            "gap_ms": round(gap_ms, 1),
            "after_switch_s": round(result.arrivals[-1].at_s - switched_at, 2)
            if result.arrivals
            else None,
            "to_old_address_delivered": stale.received,
        },
        "problems": problems,
    }


async def verify(seconds: float = 6.0, rate_pps: float = 250.0) -> list[dict[str, Any]]:
    """Build a lab with one client per profile and measure each; rows with ``problems``."""
    ids = client_ids()
    async with Lab({cid: PROFILES[name] for name, cid in ids.items()}) as lab:
        rows = await _profiles(lab, rate_pps, seconds)
        rows.append(await _bottleneck(lab, max(2.0, seconds / 2)))
        rows.append(await _switch(lab, rate_pps, max(2.0, seconds / 2)))
    return rows
