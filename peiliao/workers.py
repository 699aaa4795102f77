"""``peiliao serve --workers N``: one command serves a whole machine.

The supervisor (this module, a small process that imports none of the app) starts N worker
processes, each a whole ``peiliao serve`` bound to the same port with ``SO_REUSEPORT``: the
kernel spreads new connections over them, and a Socket.IO connection (WebSocket only, as the
web client and the caller open it) stays on the worker that accepted it.  The workers cooperate
as several servers do (``signaling.media_route``: a call's room lives on the process that
accepted it, and media signaling reaches it from any other): through Redis when
``PEILIAO_REDIS_URL`` is set, otherwise through the supervisor's own broker
(``peiliao.broker``, a Unix socket only this user can open), so the embedded default (SQLite, no
Redis) serves on every core with the same code path.

A worker that dies is started again (its calls are settled by the others' liveness watch, as
when any process dies); one that exits with an error before it serves (it tells the supervisor
through a pipe) stops the whole server with that error, since it would fail again.
SIGTERM or SIGINT is passed to every worker, which drains (running sessions go on for the
drain time-out, then end with final billing); the broker stops after the last worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kernel.settings import Settings

#: how often the supervisor looks at its workers
POLL_S = 0.2
#: a worker restarted more often than this many times in ``RESTART_WINDOW_S`` is not restarted
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
#: a Unix socket's path must fit in sun_path (108 bytes on Linux)
MAX_SOCKET_PATH = 100


def default_workers() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def die_with_supervisor() -> None:
    """In a worker, first thing: SIGTERM when the supervisor dies (Linux), so a killed
    supervisor leaves no orphan serving the port (a worker drains as on any SIGTERM)."""
    supervisor = os.environ.get("_PEILIAO_SUPERVISOR_PID")
    if not supervisor:
        return
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(supervisor):  # it died before the line above
        raise SystemExit("peiliao: the supervisor is gone")


@dataclass
class Worker:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    ready_fd: int = -1  # the read end of the pipe the worker writes to once it serves
    ready: bool = False
    restarts: list[float] = field(default_factory=list)

    def poll_ready(self) -> bool:
        if not self.ready and self.ready_fd >= 0:
            with contextlib.suppress(BlockingIOError):
                self.ready = bool(os.read(self.ready_fd, 1))
        return self.ready

    def close_pipe(self) -> None:
        if self.ready_fd >= 0:
            os.close(self.ready_fd)
            self.ready_fd = -1


def tell_supervisor_ready() -> None:
    """In a worker, once it serves: one byte on the pipe the supervisor gave it."""
    fd = os.environ.get("_PEILIAO_READY_FD")
    if fd:
        with contextlib.suppress(OSError):
            os.write(int(fd), b"1")
            os.close(int(fd))


def broker_path(settings: Settings) -> Path:
    path = Path(settings.var_dir).resolve() / f"broker-{os.getpid()}.sock"
    if len(str(path)) > MAX_SOCKET_PATH:
        path = Path(tempfile.mkdtemp(prefix="peiliao-")) / "broker.sock"
    return path


def supervise(settings: Settings, workers: int) -> int:
    """Run ``workers`` worker processes until SIGTERM/SIGINT; returns the exit code."""
    broker = None
    env = dict(os.environ)
    env["PEILIAO_HOST"], env["PEILIAO_PORT"] = settings.host, str(settings.port)
    env["_PEILIAO_SUPERVISOR_PID"] = str(os.getpid())
    if not settings.redis_url:
        from peiliao.broker import Broker

        broker = Broker(broker_path(settings))
        broker.start()
        env["PEILIAO_REDIS_URL"] = broker.url

    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def start(worker: Worker) -> None:
        worker.close_pipe()
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        try:
            worker.proc = subprocess.Popen(
                [sys.executable, "-m", "peiliao.cli", "serve", "--workers", "1", "--reuse-port"],
                env={
                    **env,
                    "_PEILIAO_WORKER": str(worker.index),
                    "_PEILIAO_READY_FD": str(write_fd),
                },
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        worker.ready_fd, worker.ready = read_fd, False

    pool = [Worker(i) for i in range(workers)]
    code = 0
    print(
        f"peiliao: {workers} workers on http://{settings.host}:{settings.port} "
        f"({'redis' if broker is None else 'local broker'}, env={settings.env})",
        file=sys.stderr,
    )
    try:
        for worker in pool:
            start(worker)
        announced = False
        while not stopping:
            time.sleep(POLL_S)
            if not announced and all(w.poll_ready() for w in pool):
                print(f"peiliao: all {workers} workers serving", file=sys.stderr, flush=True)
                announced = True
            for worker in pool:
                proc = worker.proc
                assert proc is not None  # every worker was started above
                status = proc.poll()
                if status is None or stopping:
                    continue
                now = time.monotonic()
                if not worker.poll_ready() and status > 0:  # its byte outlives it in the pipe
                    # It refused to start (a setting, the port): it would refuse again.
                    print(
                        f"peiliao: worker {worker.index} failed to start (exit {status})",
                        file=sys.stderr,
                    )
                    code, stopping = status, True
                    break
                worker.restarts = [t for t in worker.restarts if now - t < RESTART_WINDOW_S]
                if len(worker.restarts) >= MAX_RESTARTS:
                    print(
                        f"peiliao: worker {worker.index} keeps dying (exit {status}); stopping",
                        file=sys.stderr,
                    )
                    code, stopping = status or 1, True
                    break
                worker.restarts.append(now)
                print(
                    f"peiliao: worker {worker.index} exited ({status}); starting it again",
                    file=sys.stderr,
                )
                start(worker)
    finally:
        _stop_all(pool, settings.drain_timeout_s)
        for worker in pool:
            worker.close_pipe()
        if broker is not None:
            broker.stop()
    return code


def _stop_all(pool: list[Worker], drain_timeout_s: float) -> None:
    running = [w.proc for w in pool if w.proc is not None]
    for proc in running:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + drain_timeout_s + 15  # the drain, then the final billing
    for proc in running:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
