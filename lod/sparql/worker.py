"""The query worker process: ``python -m lod.sparql.worker FD SANDBOX``.

Started by lod.sparql.executor with one end of an AF_UNIX socket pair as FD. It first denies itself
Internet sockets (lod.sparql.sandbox), then answers jobs until the socket closes. Messages are plain
tuples (no classes), so either side can be restarted or upgraded without pickle surprises.

Job:   (store_dir, query, fmt, max_rows, union, default_graph|None, named_graphs|None, prefixes, note, base_iri)
Reply: (kind, body, rows, truncated, message) with kind "ok" | "syntax" | "format" | "error"
"""

from __future__ import annotations

import sys
from multiprocessing.connection import Connection


def serve(conn: Connection, sandbox: bool) -> None:
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
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2] == "1")
