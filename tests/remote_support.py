"""Helpers for the remote-store tests: the Virtuoso under test, and a loopback HTTP proxy we can cut.

The proxy sits between lod and Virtuoso: it counts every request by method and path (so a test can
count update requests) and can be cut (listener closed, open connections reset: the store is
unreachable) and restored on the same port, without touching the Virtuoso process itself.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import requests

SKIP_REASON = ("no Virtuoso on loopback: set LOD_TEST_VIRTUOSO=http://127.0.0.1:8890/ "
               "(.ci/run installs and starts one with scripts/virtuoso.sh)")


@dataclass
class Virtuoso:
    root: str          # http://127.0.0.1:8890/
    user: str
    password: str

    @property
    def sparql(self) -> str:
        return self.root + "sparql"

    @property
    def update(self) -> str:
        return self.root + "sparql-auth"

    @property
    def gsp(self) -> str:
        return self.root + "sparql-graph-crud-auth"


def virtuoso_or_reason() -> tuple[Virtuoso | None, str]:
    root = os.environ.get("LOD_TEST_VIRTUOSO", "")
    if not root:
        return None, SKIP_REASON
    root = root if root.endswith("/") else root + "/"
    if urlsplit(root).hostname not in ("127.0.0.1", "localhost", "::1"):
        return None, f"LOD_TEST_VIRTUOSO={root} is not a loopback address; tests never leave the machine"
    v = Virtuoso(root, os.environ.get("LOD_TEST_VIRTUOSO_USER", "lod"),
                 os.environ.get("LOD_TEST_VIRTUOSO_PASSWORD", "lod-update"))
    try:
        r = requests.get(v.sparql, params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"},
                         timeout=5)
        if r.status_code != 200:
            return None, f"Virtuoso at {v.sparql} answered {r.status_code}"
    except requests.RequestException as exc:
        return None, f"Virtuoso at {v.sparql} unreachable: {exc.__class__.__name__}"
    return v, ""


def clear(v: Virtuoso, base: str) -> None:
    """Drop every graph of the dataset under ``base`` (record graphs, shared graphs, its catalog)."""
    auth = requests.auth.HTTPDigestAuth(v.user, v.password)
    q = (f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), \"{base}graph/\")) }}")
    r = requests.post(v.sparql, data={"query": q}, headers={"Accept": "application/sparql-results+json"}, timeout=60)
    r.raise_for_status()
    graphs = [b["g"]["value"] for b in r.json()["results"]["bindings"]]
    for i in range(0, len(graphs), 500):
        ops = " ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs[i:i + 500])
        requests.post(v.update, data={"update": ops}, auth=auth, timeout=120).raise_for_status()


class Proxy:
    """HTTP/1.1 forwarding proxy on 127.0.0.1 to one upstream; counts requests; can be cut and restored."""

    HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}

    def __init__(self, upstream: str) -> None:
        u = urlsplit(upstream)
        self.up_host, self.up_port = u.hostname or "127.0.0.1", u.port or 80
        self.counts: Counter[str] = Counter()
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self._start()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                with proxy._lock:
                    proxy._conns.add(self.connection)

            def finish(self) -> None:
                with proxy._lock:
                    proxy._conns.discard(self.connection)
                super().finish()

            def _forward(self) -> None:
                path = self.path.split("?")[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in proxy.HOP}
                up = http.client.HTTPConnection(proxy.up_host, proxy.up_port, timeout=120)
                try:
                    up.request(self.command, self.path, body=body, headers=headers)
                    resp = up.getresponse()
                    data = resp.read()
                finally:
                    up.close()
                with proxy._lock:
                    proxy.counts[f"{self.command} {path} {resp.status}"] += 1
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in proxy.HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward  # noqa: N815

            def log_message(self, *a: object) -> None:
                pass

        return Handler

    def _start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        server.daemon_threads = True
        self.port = server.server_port
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def cut(self) -> None:
        """The store becomes unreachable: no listener (connection refused), open connections reset."""
        if self.server is None:
            return
        self.server.shutdown()
        self.server.server_close()
        self.server = None
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restore(self) -> None:
        if self.server is None:
            self._start()

    def updates(self) -> int:
        """Successful writes: SPARQL Update POSTs and Graph Store Protocol PUT/DELETEs answered 2xx."""
        return sum(n for k, n in self.counts.items()
                   if k.startswith(("POST /sparql-auth", "PUT ", "DELETE ")) and k.split()[-1].startswith("2"))

    def close(self) -> None:
        self.cut()
