"""Shared fixtures: the bundled data built once per session, a live HTTP server on loopback per test module.

Tests read only what the repository holds, and never touch the internet.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = "http://localhost:8080/"


@dataclass
class Built:
    store: Path       # the --store directory
    data: Path        # a private copy of data/
    base: str
    report: object    # lod.build.BuildReport


def build_into(tmp: Path, base: str = BASE, data: Path | None = None, **overrides: object) -> Built:
    """Copy data/ (records, authority) to tmp and build it into tmp/store with the real pipeline
    (``overrides``: other settings)."""
    from lod import config
    from lod.build import build

    data_copy = tmp / "data"
    if data is None:
        shutil.copytree(DATA, data_copy, ignore=shutil.ignore_patterns("sources"))
    else:
        data_copy = data
    settings = config.load({"store": str(tmp / "store"), "data": str(data_copy), "base_uri": base,
                            "offline": True, **overrides})
    report = build(settings)
    return Built(store=tmp / "store", data=data_copy, base=base, report=report)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The bundled records, built once. Read-only: tests that change data build their own."""
    return build_into(tmp_path_factory.mktemp("built"))


class LiveServer:
    """A real HTTP server (werkzeug, threaded) on 127.0.0.1 with an ephemeral port."""

    def __init__(self, app: object, port: int = 0) -> None:
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        close_app(self.app)


def close_app(app: object) -> None:
    """End the app's SPARQL worker processes now, not whenever the app is garbage-collected."""
    ep = getattr(app, "extensions", {}).get("lod_sparql")
    if ep is not None:
        ep.executor.close()


def make_app(built: Built, **overrides: object):  # noqa: ANN201 - Flask app
    from lod.web.app import create_app

    return create_app({"store": str(built.store), "base_uri": built.base, "data": str(built.data), **overrides})


@pytest.fixture
def app(built: Built):  # noqa: ANN201
    application = make_app(built)
    yield application
    close_app(application)


@pytest.fixture
def client(app):  # noqa: ANN001, ANN201
    """Flask test client, one per test."""
    return app.test_client()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The bundled dataset served over real HTTP. Its base URI is the server's own URL, so IRIs dereference."""
    tmp = tmp_path_factory.mktemp("live")
    # Bind first to learn the port, then build with that base so minted IRIs resolve to this server.
    from werkzeug.serving import make_server

    probe = make_server("127.0.0.1", 0, lambda e, s: [])
    port = probe.server_port
    probe.server_close()
    b = build_into(tmp, base=f"http://127.0.0.1:{port}/")
    srv = LiveServer(make_app(b), port=port)
    srv.built = b  # type: ignore[attr-defined]
    yield srv
    srv.close()


@pytest.fixture
def canary() -> Iterator[object]:
    """A loopback HTTP server that counts every hit: proof the product fetched nothing it was asked to."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.end_headers()
            self.wfile.write(b"<urn:canary> <urn:hit> <urn:yes> .\n")

        do_POST = do_GET  # noqa: N815

        def log_message(self, *a: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()

    hit_log = hits  # a class body cannot see `hits`: its own `hits` property shadows the name there

    class Canary:
        url = f"http://127.0.0.1:{srv.server_port}/"
        hits_list = hit_log

        @property
        def hits(self) -> int:
            return len(hits)

    yield Canary()
    srv.shutdown()


# Lines a test module wants printed at the end of the run (e.g. the W3C protocol test tally).
SUMMARY_LINES: list[str] = []


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    for line in SUMMARY_LINES:
        terminalreporter.write_line(line)
