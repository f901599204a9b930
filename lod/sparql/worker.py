"""The query worker process: ``python -m lod.sparql.worker FD SANDBOX [MAX_MB [IDLE_S IDLE_MB]]``.

Started by lod.sparql.executor with one end of an AF_UNIX socket pair as FD. It first denies itself
Internet sockets (lod.sparql.sandbox), then answers jobs until the socket closes. Messages are plain
tuples (no classes), so either side can be restarted or upgraded without pickle surprises.

Job:   (store_dir, query, fmt, max_rows, union, default_graph|None, named_graphs|None, prefixes, note, base_iri)
Reply: (kind, body, rows, truncated, message, retiring) with kind "ok" | "syntax" | "format" | "error";
       retiring is 0, or the worker's RSS in bytes when it has grown past MAX_MB and exits after this reply.

Memory: RocksDB's block caches and table readers (sizes not settable from Python) keep what a heavy query
read for as long as the store is open: 53 -> 235 MB for a regex over every title at 100,000 records. A
worker past MAX_MB after an answer closes the store and hands the freed heap back to the system
(malloc_trim): ~55 MB again, after the reply is sent; reopening costs ~10 ms on its next query. So does
a worker idle for IDLE_S seconds whose store holds more than IDLE_MB (a burst of queries keeps its warm
caches; a pool's idle workers do not sit on a heavy query's). A worker that started past MAX_MB, or that
a close left past it (memory the store did not hold), retires with its next answer, and the executor
starts a fresh process in its place.
"""

from __future__ import annotations

import ctypes
import gc
import os
import sys
from multiprocessing.connection import Connection

PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """This process's resident set size: one read of /proc/self/statm (0 where there is no /proc)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, ValueError, IndexError):
        return 0


def _release() -> None:
    """Once the last reference to the store is dropped (RocksDB closes and frees its caches): collect,
    and give the freed heap back to the system (glibc's malloc_trim; elsewhere nothing more to do)."""
    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def serve(conn: Connection, sandbox: bool, max_bytes: int = 0, idle_s: float = 0.0, idle_bytes: int = 0) -> None:
    from lod.sparql.sandbox import deny_network

    sandboxed = deny_network() if sandbox else False
    import pyoxigraph as ox

    from lod.sparql.results import FormatError, serialise

    conn.send(("ready", sandboxed))
    floor = rss_bytes()         # before any store is open: what closing one cannot go below
    leaking = False
    opened: tuple[str, ox.Store] | None = None
    while True:
        try:
            if opened is not None and idle_s > 0 and not conn.poll(idle_s) and rss_bytes() - floor > idle_bytes:
                opened = None
                _release()
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        store_dir, query, fmt, max_rows, union, default_graph, named_graphs, prefixes, note, base_iri = job
        try:
            if opened is None or opened[0] != store_dir:
                opened = None
                opened = (store_dir, ox.Store.read_only(store_dir))
            kwargs: dict[str, object] = {"base_iri": base_iri or None}
            if default_graph is not None or named_graphs is not None:
                kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph or []]
                if named_graphs is not None:
                    kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
            elif union:
                kwargs["use_default_graph_as_union"] = True
            result = opened[1].query(query, **kwargs)
            try:
                body, rows, truncated = serialise(result, fmt, max_rows, prefixes=prefixes, note=note)
            finally:
                del result      # it holds the store open
            reply = ("ok", body, rows, truncated, "")
        except SyntaxError as exc:
            reply = ("syntax", b"", 0, False, str(exc))
        except FormatError as exc:
            reply = ("format", b"", 0, False, str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the client as a 500 with its text
            reply = ("error", b"", 0, False, f"{type(exc).__name__}: {exc}")
        rss = rss_bytes() if max_bytes > 0 else 0
        over = rss > max_bytes > 0
        # Retire now only when closing the store cannot help: this process started past the limit, or a
        # close already left it there (memory the store did not hold).
        retiring = rss if over and (floor > max_bytes or leaking) else 0
        try:
            conn.send((*reply, retiring))
        except (OSError, ValueError):
            return
        if retiring:
            return      # the executor has the answer and starts a fresh worker in our place
        if over:        # after the reply: the client does not wait for the ~30 ms this takes
            opened = None
            _release()
            leaking = rss_bytes() > max_bytes


if __name__ == "__main__":
    mb = [float(v) * 2**20 for v in sys.argv[3:6:2]]    # MAX_MB, IDLE_MB
    serve(Connection(int(sys.argv[1])), sys.argv[2] == "1", int(mb[0]) if mb else 0,
          float(sys.argv[4]) if len(sys.argv) > 4 else 0.0, int(mb[1]) if len(mb) > 1 else 0)
