"""Deny Internet sockets to the current process (Linux seccomp), for the query workers.

Why: pyoxigraph 0.5.13 evaluates ``SERVICE <url>`` by calling the URL itself. Our static checks
(lod.sparql.safety) and rewriting (lod.sparql.federation) remove every SERVICE clause before a query
reaches a worker, but a sandbox does not depend on a tokenizer being right: once installed, any
``socket()`` call other than AF_UNIX fails with EPERM in this process and its children, for good.
The workers talk to the server over inherited AF_UNIX pipes, which keep working.

Only plain libc ``prctl`` through ctypes; no extra package. On a kernel or architecture where the
filter cannot be installed, :func:`deny_network` returns False and the caller logs it (the static
layers still hold).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import struct

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EPERM = 1
AF_UNIX = 1

# (audit arch, socket syscall number, socketpair number)
_ARCH = {
    "x86_64": (0xC000003E, 41, 53),
    "aarch64": (0xC00000B7, 198, 199),
}

BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_RET_K = 0x06


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("HBBI", code, jt, jf, k)


def _program(arch: int, nr_socket: int, nr_socketpair: int) -> bytes:
    deny = SECCOMP_RET_ERRNO | EPERM
    return b"".join([
        _insn(BPF_LD_W_ABS, 0, 0, 4),                 # 0: A = arch
        _insn(BPF_JEQ_K, 1, 0, arch),                 # 1: native arch? -> 3
        _insn(BPF_RET_K, 0, 0, deny),                 # 2: foreign ABI: deny everything it asks
        _insn(BPF_LD_W_ABS, 0, 0, 0),                 # 3: A = syscall nr
        _insn(BPF_JGE_K, 0, 1, 0x40000000),           # 4: x32 ABI numbers -> deny
        _insn(BPF_RET_K, 0, 0, deny),                 # 5
        _insn(BPF_JEQ_K, 1, 0, nr_socket),            # 6: socket()? -> 8
        _insn(BPF_JEQ_K, 0, 3, nr_socketpair),        # 7: socketpair()? -> 8 else allow
        _insn(BPF_LD_W_ABS, 0, 0, 16),                # 8: A = args[0] (domain, low word)
        _insn(BPF_JEQ_K, 1, 0, AF_UNIX),              # 9: AF_UNIX -> allow
        _insn(BPF_RET_K, 0, 0, deny),                 # 10
        _insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),    # 11
    ])


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def deny_network() -> bool:
    """Install the filter in this process; True on success. Irreversible by design."""
    if platform.system() != "Linux":
        return False
    spec = _ARCH.get(platform.machine())
    if spec is None:
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    prog = _program(*spec)
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) == 0
