"""The two kernel doors the lab uses: TUN devices (IP packets to and from a process) and sockets
opened inside another network namespace (``setns(2)`` on a short-lived thread: a network
namespace is per thread, and a socket keeps the namespace it was made in)."""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading

TUNSETIFF = 0x400454CA  # _IOW('T', 202, int), linux/if_tun.h
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000
IFNAMSIZ = 16


def open_tun(name: str) -> int:
    """A new TUN device ``name`` (layer 3, no packet-info header), non-blocking.  The device
    goes away when the returned descriptor is closed (or its process dies), wherever it was
    moved to since."""
    if len(name.encode()) >= IFNAMSIZ:
        raise ValueError(f"interface name {name!r} is longer than {IFNAMSIZ - 1} bytes")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


def unavailable_reason() -> str | None:
    """Why the lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the network lab needs root (network namespaces and TUN devices)"
    if not os.path.exists("/dev/net/tun"):
        return "the network lab needs /dev/net/tun (modprobe tun)"
    try:
        os.close(os.open("/dev/net/tun", os.O_RDWR))
    except OSError as exc:
        return f"/dev/net/tun cannot be opened: {exc}"
    if not any(os.access(os.path.join(d, "ip"), os.X_OK) for d in ("/usr/sbin", "/sbin", "/bin")):
        return "the network lab needs iproute2's ip command"
    return None


def socket_in(netns: str, family: int, kind: int) -> socket.socket:
    """A socket in the network namespace ``netns`` (``ip netns`` name)."""
    libc = ctypes.CDLL(None, use_errno=True)
    made: list[socket.socket] = []
    failed: list[BaseException] = []

    def make() -> None:
        try:
            fd = os.open(f"/run/netns/{netns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns into {netns}: {os.strerror(err)}")
            finally:
                os.close(fd)
            made.append(socket.socket(family, kind))
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=make, name=f"setns-{netns}")
    thread.start()
    thread.join(timeout=5)
    if failed:
        raise failed[0]
    if not made:
        raise OSError(f"could not open a socket in {netns} within 5 s")
    return made[0]
