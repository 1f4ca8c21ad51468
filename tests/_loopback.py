"""The TCP sockets a process listens on, to check a Dask cluster stays on loopback.

On Linux the kernel's own tables are read (``/proc/<pid>/fd`` gives the socket
inodes a process holds, ``/proc/<pid>/net/tcp`` and ``tcp6`` the addresses of
the sockets in ``LISTEN`` state); elsewhere psutil, which distributed depends
on, answers.
"""

import ipaddress
import os
import socket

_TCP_LISTEN = "0A"


def _socket_inodes(pid):
    inodes = set()
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _decode(hex_address, family):
    """``'0100007F:1F90'`` -> ``('127.0.0.1', 8080)``: words in host byte order."""
    hex_ip, hex_port = hex_address.split(":")
    raw = bytes.fromhex(hex_ip)
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, raw), int(hex_port, 16)


def _listening_proc(pid):
    inodes = _socket_inodes(pid)
    found = set()
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        path = f"/proc/{pid}/net/{table}"
        if not os.path.exists(path):  # no IPv6 in this kernel
            continue
        with open(path) as lines:
            next(lines)  # header
            for line in lines:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                if state == _TCP_LISTEN and inode in inodes:
                    found.add(_decode(local, family))
    return found


def _listening_psutil(pid):
    import psutil

    return {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.Process(pid).net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN
    }


def listening_addresses(pid=None):
    """``{(ip, port)}`` of the TCP sockets that process ``pid`` listens on.

    ``pid`` defaults to this process.
    """
    pid = os.getpid() if pid is None else pid
    if os.path.isdir(f"/proc/{pid}/fd"):
        return _listening_proc(pid)
    return _listening_psutil(pid)


def is_loopback(ip):
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback (::ffff:127.0.0.1)."""
    address = ipaddress.ip_address(ip.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)
