"""Which ports a set of processes listens on, asked of the Linux kernel directly.

The runner checks that the port it talks to belongs to the server and that the
server listens on loopback only.  psutil answers that by parsing the text table
of every TCP socket on the machine (/proc/net/tcp, tcp6) once per process asked
about: tens of milliseconds per cell on a busy machine, most of it the kernel
walking every connection.  Here the kernel is asked for listening sockets only,
over a sock_diag netlink socket (what `ss -l` does: tens of microseconds), and
each process's descriptors are matched against their inodes.  Where netlink is
not available the /proc tables are read once; off Linux, psutil answers
(`harness.runner.ports`).
"""

from __future__ import annotations

import os
import socket
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

_PROC = Path("/proc")
_TCP_LISTEN = 10
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST_DUMP = 0x301
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
_REQUEST = struct.Struct("=BBBBI")  # struct inet_diag_req_v2, before its 48-byte socket id
#: In struct inet_diag_msg: family (0), source port (4, big-endian), source
#: address (8, 16 bytes), inode (68).
_INODE_AT = 68

Listening = dict[int, tuple[str, int]]  # socket inode -> (address, port)


def _netlink_listening(family: socket.AddressFamily) -> Listening:
    """Listening TCP sockets of one address family, from the kernel (raises OSError)."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as channel:
        channel.settimeout(2.0)
        request = _REQUEST.pack(family, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_LISTEN) + bytes(48)
        header = _HEADER.pack(
            _HEADER.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST_DUMP, 1, 0
        )
        channel.sendto(header + request, (0, 0))
        found: Listening = {}
        width = 4 if family == socket.AF_INET else 16
        while True:
            data = channel.recv(65536)
            if not data:
                return found
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind = _HEADER.unpack_from(data, offset)[:2]
                if kind == _NLMSG_DONE:
                    return found
                if kind == _NLMSG_ERROR or length < _HEADER.size:
                    raise OSError("sock_diag refused the request")
                message = offset + _HEADER.size
                port = struct.unpack_from(">H", data, message + 4)[0]
                address = socket.inet_ntop(family, data[message + 8 : message + 8 + width])
                inode = struct.unpack_from("=I", data, message + _INODE_AT)[0]
                found[inode] = (address, port)
                offset += (length + 3) & ~3


def _proc_address(text: str, family: socket.AddressFamily) -> tuple[str, int]:
    """`0100007F:1F90` from /proc/net/tcp: the address in the kernel's byte order."""
    address, port = text.split(":")
    raw = bytes.fromhex(address)
    if sys.byteorder == "little":  # each 32-bit word is printed as a native integer
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, raw), int(port, 16)


def _proc_listening(name: str, family: socket.AddressFamily) -> Listening:
    """The same from /proc/net/NAME (raises OSError)."""
    found: Listening = {}
    for line in (_PROC / "net" / name).read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        if len(fields) > 9 and fields[3] == "0A":  # TCP_LISTEN
            try:
                found[int(fields[9])] = _proc_address(fields[1], family)
            except (ValueError, OSError):
                continue
    return found


def _listening() -> Listening | None:
    """Every listening TCP socket on the machine (IPv4 and IPv6), or None."""
    found: Listening = {}
    for name, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            found.update(_netlink_listening(family))
        except (OSError, AttributeError, struct.error):  # no netlink here (sandboxes)
            try:
                found.update(_proc_listening(name, family))
            except (OSError, UnicodeDecodeError):
                if family == socket.AF_INET:
                    return None
    return found


def listening_table() -> Listening | None:
    """Linux: every listening TCP socket on the machine by inode; None elsewhere."""
    return _listening() if sys.platform.startswith("linux") else None


def socket_inodes(pids: Sequence[int]) -> tuple[set[int], bool]:
    """The socket inodes `pids` hold open, and whether we could look at any of them."""
    inodes: set[int] = set()
    visible = False
    for pid in pids:
        fd_dir = _PROC / str(pid) / "fd"
        try:
            descriptors = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to look at
        visible = True
        for descriptor in descriptors:
            try:
                target = os.readlink(fd_dir / descriptor)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    return inodes, visible


def proc_listening_sockets(pids: Sequence[int]) -> tuple[set[tuple[str, int]], bool] | None:
    """Linux: (address, port) pairs on which any of `pids` listens, and whether we
    could look at any of them; None when the kernel cannot tell us."""
    listening = listening_table()
    if listening is None:
        return None
    inodes, visible = socket_inodes(pids)
    return {listening[inode] for inode in inodes if inode in listening}, visible
