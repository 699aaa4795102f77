"""UDP probes that measure what the lab does: a stream of numbered, timestamped packets at a
fixed rate, and what arrived of it (loss, loss bursts, one-way delay, overtaking, throughput).

Both ends are sockets of this process (one of them made in a client's namespace), so one-way
delay is read off one clock: the send time stamped just before ``sendto``, the arrival time
stamped by the kernel as the packet reaches the receiving socket.  The header is ``seq`` (u32)
and the send time (u64 ns); the rest pads the packet to ``size_bytes`` of UDP payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import statistics
import struct
import time
from dataclasses import dataclass, field
from typing import Any

HEADER = struct.Struct("!IQ")
IP_UDP_HEADER_BYTES = 28
MAX_PROBE_PACKETS = 100_000
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


@dataclass
class Arrival:
    seq: int
    delay_ms: float
    at_s: float
    source: tuple[str, int]


@dataclass
class ProbeResult:
    sent: int
    size_bytes: int
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len({a.seq for a in self.arrivals})

    @property
    def loss(self) -> float:
        return 1 - self.received / self.sent if self.sent else 0.0

    def loss_bursts(self) -> list[int]:
        """Lengths of the runs of consecutive lost sequence numbers."""
        got = {a.seq for a in self.arrivals}
        bursts, run = [], 0
        for seq in range(self.sent):
            if seq in got:
                if run:
                    bursts.append(run)
                run = 0
            else:
                run += 1
        if run:
            bursts.append(run)
        return bursts

    def delay_ms(self, q: float) -> float:
        delays = sorted(a.delay_ms for a in self.arrivals)
        if not delays:
            return float("nan")
        return delays[min(len(delays) - 1, int(q * len(delays)))]

    @property
    def jitter_ms(self) -> float:
        """The standard deviation of one-way delay."""
        delays = [a.delay_ms for a in self.arrivals]
        return statistics.pstdev(delays) if len(delays) > 1 else 0.0

    @property
    def reordered(self) -> int:
        """Packets that arrived after one with a higher sequence number."""
        top, late = -1, 0
        for a in self.arrivals:
            if a.seq < top:
                late += 1
            top = max(top, a.seq)
        return late

    @property
    def throughput_kbit(self) -> float:
        """IP bytes received per second over the span of arrivals."""
        if len(self.arrivals) < 2:
            return 0.0
        span_s = self.arrivals[-1].at_s - self.arrivals[0].at_s
        ip_bytes = (len(self.arrivals) - 1) * (self.size_bytes + IP_UDP_HEADER_BYTES)
        return ip_bytes * 8 / 1000 / span_s if span_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        bursts = self.loss_bursts()
        return {
            "sent": self.sent,
            "received": self.received,
            "loss": round(self.loss, 4),
            "mean_burst": round(statistics.fmean(bursts), 2) if bursts else 0.0,
            "delay_p50_ms": round(self.delay_ms(0.5), 1),
            "delay_p95_ms": round(self.delay_ms(0.95), 1),
            "jitter_ms": round(self.jitter_ms, 1),
            "reordered": self.reordered,
            "throughput_kbit": round(self.throughput_kbit, 1),
        }


def _on_readable(sock: socket.socket, result: ProbeResult) -> None:
    """Read what is queued; each packet's arrival time is the kernel's (``SO_TIMESTAMPNS``), so
    this process's own scheduling delay is not measured as the lab's delay."""
    for _ in range(256):
        try:
            data, ancillary, _flags, addr = sock.recvmsg(2048, 64)
        except (BlockingIOError, InterruptedError):
            return
        at_ns = time.time_ns()
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                at_ns = sec * 1_000_000_000 + nsec
        if len(data) < HEADER.size or len(result.arrivals) >= MAX_PROBE_PACKETS:
            continue
        seq, sent_ns = HEADER.unpack_from(data)
        result.arrivals.append(Arrival(seq, (at_ns - sent_ns) / 1e6, at_ns / 1e9, addr))


async def stream(
    sender: socket.socket,
    receiver: socket.socket,
    *,
    rate_pps: float,
    count: int,
    size_bytes: int = 160,
    linger_s: float = 1.0,
    to: tuple[str, int] | None = None,
) -> ProbeResult:
    """Send ``count`` packets of ``size_bytes`` at ``rate_pps`` from ``sender`` to
    ``receiver`` (bound, non-blocking sockets; ``to`` overrides the destination) and wait
    ``linger_s`` after the last one for stragglers."""
    if not 0 < count <= MAX_PROBE_PACKETS:
        raise ValueError(f"count must be in 1..{MAX_PROBE_PACKETS}, not {count}")
    if not 0 < rate_pps <= 10_000:
        raise ValueError(f"rate_pps must be in (0, 10000], not {rate_pps}")
    if not HEADER.size <= size_bytes <= 1400:
        raise ValueError(f"size_bytes must be in {HEADER.size}..1400, not {size_bytes}")
    loop = asyncio.get_running_loop()
    result = ProbeResult(sent=count, size_bytes=size_bytes)
    receiver.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    loop.add_reader(receiver.fileno(), _on_readable, receiver, result)
    destination = to or receiver.getsockname()[:2]
    pad = bytes(size_bytes - HEADER.size)
    try:
        start = loop.time()
        for seq in range(count):
            due = start + seq / rate_pps
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            packet = HEADER.pack(seq, time.time_ns()) + pad
            # No route (an address that went away): the packet is lost.
            with contextlib.suppress(OSError):
                await loop.sock_sendto(sender, packet, destination)
        await asyncio.sleep(linger_s)
    finally:
        loop.remove_reader(receiver.fileno())
        receiver.close()
        sender.close()
    result.arrivals.sort(key=lambda a: a.at_s)
    return result


def bound(sock: socket.socket, address: str) -> socket.socket:
    sock.setblocking(False)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((address, 0))
    return sock
