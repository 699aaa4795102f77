"""The network lab's benchmark (issue 17): does the lab do what each profile claims?

    sudo .venv/bin/python -m bench.network            # 6 s of probes per phase
    sudo .venv/bin/python -m bench.network --seconds 30 --rate-pps 400
    sudo .venv/bin/python -m bench.network --quality  # direct and relay calls, 20 s each

One client per profile, each in its own network namespace behind the lab's router
(``bench/netlab``); UDP probes up and down measure loss, loss bursts, one-way delay, jitter,
overtaking, the rate cap and an address change, next to what the profile configures and what
the router counted.  Prints a table; writes bench/results/network.json.  Needs root and
/dev/net/tun; exits 2 with the reason otherwise, 1 when a measurement disagrees with its profile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from bench.media_report import print_table
from bench.netlab.profiles import PROFILES
from bench.netlab.tun import unavailable_reason
from bench.netlab.verify import verify

RESULTS = Path(__file__).resolve().parent / "results"


def table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        c, m = r["configured"], r["measured"]
        if "rate_kbit" in c:
            want = f"{c['rate_kbit']:g} kbit/s, queue {c['queue_ms']:g} ms"
            want += f" (offered {c['offered_kbit']})"
            got = f"{m['throughput_kbit']:g} kbit/s, max delay {m['delay_max_ms']} ms"
        elif "old" in c:
            want = f"{c['old']} → {c['new']}"
            got = f"{' → '.join(m['sources'])}, gap {m['gap_ms']} ms"
        else:
            burst = f" burst {c['mean_burst']}" if c["mean_burst"] else ""
            want = f"loss {c['loss']:.3f}{burst}, {c['delay_ms']:g}±{c['jitter_ms']:g} ms"
            got = (
                f"loss {m['loss']:.3f} burst {m['mean_burst']}, p50 {m['delay_p50_ms']} "
                f"p95 {m['delay_p95_ms']} sd {m['jitter_ms']} ms, {m['reordered']} overtook"
            )
        router = r.get("router")
        out.append(
            {
                "profile": r["profile"],
                "way": r["direction"],
                "configured": want,
                "measured": got,
                "sent/received": f"{m['sent']}/{m['received']}",
                "router dropped": router["lost"] + router["queue_dropped"] if router else "",
                "ok": "yes" if not r["problems"] else "; ".join(r["problems"]),
            }
        )
    return out


#: the set-up and its stages, each "customer/companion" (relay) or "offer/answer" (direct), ms
#: from the click on "video call" (relay; ``accepted_ms``: the companion's accept) or from page
#: start (direct) to: the page's peer connection made, ICE connected, DTLS done, the first audio
#: packet and the first decoded frame received
SETUP_STAGES = (
    "setup_ms",
    "accepted_ms",
    "pc_created_ms",
    "ice_connected_ms",
    "dtls_connected_ms",
    "first_audio_ms",
    "first_frame_ms",
)
QUALITY_COLUMNS = [
    "profile",
    "mode",
    *SETUP_STAGES,
    "concealed_ratio",
    "audio_jb_delay_ms",
    "audio_jitter_ms",
    "audio_kbps",
    "fps",
    "freezes",
    "freeze_s",
    "resolution",
    "video_kbps",
    "send_limit",
    "send_target_kbps",
    "encoded_kbps",
    "encoded_qp",
    "available_kbps",
    "rtt_ms",
]
#: the figures compared relay / direct (the mean of the two sides each)
RATIO_FIGURES = [
    "setup_ms",
    "concealed_ratio",
    "audio_jb_delay_ms",
    "fps",
    "freezes",
    "freeze_s",
    "rtt_ms",
]


def quality_row(run: dict[str, Any]) -> dict[str, Any]:
    """One table row for a run: set-up figures as "customer/companion" (or "offer/answer"),
    the receive figures combined over both sides.  A relay call's RTT is its media path's:
    the two legs (client ↔ server) added, as the direct call's is client ↔ client."""
    from bench.netlab.quality import combine

    row: dict[str, Any] = {"profile": run["profile"], "mode": run["mode"]}
    for key in SETUP_STAGES:
        if key in run:
            row[key] = "/".join(str(x) for x in run[key])
    row |= combine(run["sides"])
    if run["mode"] == "relay":
        rtts = [s.get("rtt_ms") for s in run["sides"]]
        row["rtt_ms"] = round(sum(rtts), 1) if None not in rtts else None
    return row


def ratio_rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per profile with both modes, relay / direct for each figure (set-up: the mean of the
    two pages)."""
    by = {(r["profile"], r["mode"]): r for r in runs}
    out = []
    for profile in dict.fromkeys(r["profile"] for r in runs):
        relay, direct = by.get((profile, "relay")), by.get((profile, "direct"))
        if relay is None or direct is None:
            continue
        row: dict[str, Any] = {"profile": profile}
        for key in RATIO_FIGURES:
            r, d = _figure(relay, key), _figure(direct, key)
            row[key] = f"{r:g} / {d:g} = {r / d:.2f}" if r is not None and d else f"{r} / {d}"
        out.append(row)
    return out


def _figure(run: dict[str, Any], key: str) -> float | None:
    if key == "setup_ms":
        return float(round(sum(run["setup_ms"]) / len(run["setup_ms"])))
    value = quality_row(run).get(key)
    return float(value) if isinstance(value, int | float) else None


def quality_main(args: argparse.Namespace) -> int:
    """``--quality``: per profile, two Chromiums in two client namespaces behind it: a direct
    call between them, then the web client's call through ``peiliao serve`` (same lab)."""
    from bench.netlab.lab import Lab
    from bench.netlab.quality import direct_run
    from bench.netlab.relay import Server, relay_run

    seconds = 20.0 if args.seconds == 6.0 else args.seconds
    if not 5 <= seconds <= 120:
        print("bench.network: --seconds must be between 5 and 120 with --quality", file=sys.stderr)
        return 2

    async def run() -> list[dict[str, Any]]:
        rows = []
        for name in args.profiles:
            prof = PROFILES[name]
            async with Lab({"a": prof, "b": prof}) as lab:
                for mode in args.modes:
                    if mode == "direct":
                        got = await direct_run(lab, seconds)
                    else:
                        async with Server(lab) as server:
                            got = await relay_run(lab, server, seconds)
                    rows.append({"profile": name, "mode": mode, **got})
                    print(f"{name} {mode}: {got}", file=sys.stderr)
        return rows

    rows = asyncio.run(run())
    out = args.out if args.out != RESULTS / "network.json" else RESULTS / "network_quality.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"seconds": seconds, "runs": rows}, indent=2))
    print_table([quality_row(r) for r in rows], QUALITY_COLUMNS)
    ratios = ratio_rows(rows)
    if ratios:
        print("\nrelay / direct (mean of both sides):")
        print_table(ratios, ["profile", *RATIO_FIGURES])
    print(f"wrote {out}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.network", description=__doc__)
    parser.add_argument("--seconds", type=float, default=6.0, help="probe time per phase")
    parser.add_argument("--rate-pps", type=float, default=250.0, help="probe packets per second")
    parser.add_argument("--out", type=Path, default=RESULTS / "network.json")
    parser.add_argument(
        "--quality",
        action="store_true",
        help="call quality from Chromium's getStats per profile, direct and through the relay",
    )
    parser.add_argument(
        "--modes",
        nargs="*",
        default=["direct", "relay"],
        choices=["direct", "relay"],
        help="with --quality: which calls to measure",
    )
    parser.add_argument("--profiles", nargs="*", default=list(PROFILES), choices=list(PROFILES))
    args = parser.parse_args(argv)
    if args.quality:
        return quality_main(args)
    if not 1 <= args.seconds <= 600:
        parser.error("--seconds must be between 1 and 600")
    if not 10 <= args.rate_pps <= 1000:
        parser.error(
            "--rate-pps must be between 10 and 1000 (the bottleneck profile is 500 kbit/s)"
        )
    reason = unavailable_reason()
    if reason:
        print(f"bench.network: {reason}", file=sys.stderr)
        return 2
    rows = asyncio.run(verify(args.seconds, args.rate_pps))
    report = {
        "seconds": args.seconds,
        "rate_pps": args.rate_pps,
        "profiles": {name: p.as_dict() for name, p in PROFILES.items()},
        "verification": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print_table(
        table_rows(rows),
        ["profile", "way", "configured", "measured", "sent/received", "router dropped", "ok"],
    )
    print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(r["problems"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
