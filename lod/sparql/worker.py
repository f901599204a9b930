"""The query worker process: ``python -m lod.sparql.worker FD SANDBOX [MAX_MB]``.

Started by lod.sparql.executor with one end of an AF_UNIX socket pair as FD. It first denies itself
Internet sockets (lod.sparql.sandbox), then answers jobs until the socket closes. Messages are plain
tuples (no classes), so either side can be restarted or upgraded without pickle surprises.

Job:   (store_dir, query, fmt, max_rows, union, default_graph|None, named_graphs|None, prefixes, note, base_iri)
Reply: (kind, body, rows, truncated, message, retiring) with kind "ok" | "syntax" | "format" | "error";
       retiring is 0, or the worker's RSS in bytes when it has grown past MAX_MB and exits after this reply.

Why retire: RocksDB's caches and pyoxigraph's term cache (defaults, not settable from Python) keep what a
heavy query read for the life of the process; only a fresh process gives that memory back.
"""

from __future__ import annotations

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


def serve(conn: Connection, sandbox: bool, max_bytes: int = 0) -> None:
    from lod.sparql.sandbox import deny_network

    sandboxed = deny_network() if sandbox else False
    import pyoxigraph as ox

    from lod.sparql.results import FormatError, serialise

    conn.send(("ready", sandboxed))
    opened: tuple[str, ox.Store] | None = None
    while True:
        try:
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
            body, rows, truncated = serialise(result, fmt, max_rows, prefixes=prefixes, note=note)
            reply = ("ok", body, rows, truncated, "")
        except SyntaxError as exc:
            reply = ("syntax", b"", 0, False, str(exc))
        except FormatError as exc:
            reply = ("format", b"", 0, False, str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the client as a 500 with its text
            reply = ("error", b"", 0, False, f"{type(exc).__name__}: {exc}")
        rss = rss_bytes() if max_bytes > 0 else 0
        retiring = rss if rss > max_bytes else 0
        try:
            conn.send((*reply, retiring))
        except (OSError, ValueError):
            return
        if retiring:
            return      # the executor has the answer and starts a fresh worker in our place


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2] == "1", int(float(sys.argv[3]) * 2**20) if len(sys.argv) > 3 else 0)
