"""Fixtures of the hostile corpus: one canary for the whole package, a redirector, a network guard.

- ``hostile_canary``: a loopback HTTP server counting every hit. Every URL the corpus hands the
  product (SERVICE, FROM, LOAD, @context, external entities, redirects) is, where it can be, this
  server; at the end of the package its count must be zero.
- ``redirector``: a loopback server answering 302 to the canary (the "redirecting URL" case).
- ``no_network``: a context manager that makes this process unable to open any Internet socket or
  resolve any name while it is active, and records every attempt. Requests made through the Flask
  test client run the product's code in this process, so "refused BEFORE any network activity" is
  checked literally: not a single connect() or getaddrinfo() was attempted. It never lets a
  connection through, so private and link-local targets (10.x, 192.168.x, 169.254.169.254) are
  never contacted even if the product regressed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CASES_RUN: dict[str, int] = {}      # table -> cases run (printed at the end of the session)


class Counter:
    """A loopback HTTP server that records each request path."""

    def __init__(self, answer: tuple[int, dict[str, str], bytes]) -> None:
        hits: list[str] = []
        status, headers, body = answer

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:  # noqa: N802
                hits.append(f"{self.command} {self.path}")
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _any  # noqa: N815

            def log_message(self, *a: object) -> None:
                pass

        self.hits_list = hits
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def hits(self) -> int:
        return len(self.hits_list)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="package")
def hostile_canary() -> Iterator[Counter]:
    c = Counter((200, {"Content-Type": "text/turtle"}, b"<urn:canary> <urn:hit> <urn:yes> .\n"))
    yield c
    c.close()
    assert c.hits == 0, f"the canary was called: {c.hits_list}"


@pytest.fixture(scope="package")
def redirector(hostile_canary: Counter) -> Iterator[Counter]:
    c = Counter((302, {"Location": hostile_canary.url + "redirected"}, b""))
    yield c
    c.close()


# ----------------------------------------------------------------------------------- network guard
@dataclass
class Guard:
    attempts: list[str] = field(default_factory=list)


_REAL = {"connect": socket.socket.connect, "connect_ex": socket.socket.connect_ex,
         "getaddrinfo": socket.getaddrinfo, "create_connection": socket.create_connection}


@contextlib.contextmanager
def no_network() -> Iterator[Guard]:
    """No Internet socket can connect and no name resolves in this process while active; attempts recorded."""
    guard = Guard()

    def refuse(what: str) -> OSError:
        guard.attempts.append(what)
        return PermissionError(f"hostile-suite guard: network access refused ({what})")

    def connect(self: socket.socket, address: object) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise refuse(f"connect {address!r}")
        return _REAL["connect"](self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            raise refuse(f"connect_ex {address!r}")
        return _REAL["connect_ex"](self, address)

    def getaddrinfo(host: object, *a: object, **k: object) -> object:
        raise refuse(f"getaddrinfo {host!r}")

    def create_connection(address: object, *a: object, **k: object) -> object:
        raise refuse(f"create_connection {address!r}")

    socket.socket.connect = connect            # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex      # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo           # type: ignore[assignment]
    socket.create_connection = create_connection  # type: ignore[assignment]
    try:
        yield guard
    finally:
        socket.socket.connect = _REAL["connect"]            # type: ignore[method-assign]
        socket.socket.connect_ex = _REAL["connect_ex"]      # type: ignore[method-assign]
        socket.getaddrinfo = _REAL["getaddrinfo"]           # type: ignore[assignment]
        socket.create_connection = _REAL["create_connection"]  # type: ignore[assignment]


def count(table: str, n: int = 1) -> None:
    CASES_RUN[table] = CASES_RUN.get(table, 0) + n


@pytest.fixture(scope="package", autouse=True)
def _report(hostile_canary: Counter) -> Iterator[None]:
    """Print what ran, and the canary's count, at the end of the session."""
    yield
    from conftest import SUMMARY_LINES

    total = sum(CASES_RUN.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(CASES_RUN.items()))
    SUMMARY_LINES.append(f"hostile corpus: {total} cases passed ({detail}); canary hits: {hostile_canary.hits}")


# ----------------------------------------------------------------------------------- a hostile site
@pytest.fixture(scope="package")
def hostile_built(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - conftest.Built
    """The bundled records plus one record file per HTML case (corpus.HTML_CASES), built with the real
    pipeline; base http://localhost:8080/ (served below on other ports: as behind a reverse proxy)."""
    import shutil

    import yaml
    from conftest import DATA, build_into

    from hostile.corpus import EXTRA_RECORDS, HTML_CASES

    tmp = tmp_path_factory.mktemp("hostile-site")
    data = tmp / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    for rec in [c.input for c in HTML_CASES] + EXTRA_RECORDS:
        (data / "records" / f"{rec['key']}.yaml").write_text(
            yaml.safe_dump(rec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    built = build_into(tmp, data=data)
    assert not built.report.errors, [str(e) for e in built.report.errors]
    return built


@pytest.fixture(scope="package")
def hostile_app(hostile_built):  # noqa: ANN001, ANN201
    from conftest import make_app

    app = make_app(hostile_built, sparql_workers=1, sparql_timeout=2.0, sparql_max_rows=100)
    yield app
    ep = app.extensions.get("lod_sparql")
    if ep is not None:
        ep.executor.close()


# ----------------------------------------------------------------------------------- lod serve (gunicorn)
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


@dataclass
class Server:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def serve(store: Path, data: Path, port: int, *extra: str, log: Path | None = None,
          env: dict[str, str] | None = None) -> subprocess.Popen:
    """`lod serve` (gunicorn) on loopback, one worker unless told; its own process group so it can be
    stopped whole. Standard error (the query log, warnings) goes to ``log`` (a pipe could fill and block)."""
    args = [sys.executable, "-c", "from lod.cli import main; main()", "serve", "--store", str(store),
            "--data", str(data), "--base-uri", "http://localhost:8080/", "--port", str(port), *extra]
    if "--workers" not in extra:
        args += ["--workers", "1"]
    err = open(log, "ab") if log is not None else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the server
    return subprocess.Popen(args, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=err,
                            start_new_session=True, env={**os.environ, **(env or {})})


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="package")
def hostile_gunicorn(hostile_built) -> Iterator[Server]:  # noqa: ANN001
    """The hostile site served by `lod serve` (gunicorn + asgi front), as in production."""
    port = free_port()
    proc = serve(hostile_built.store, hostile_built.data, port, log=hostile_built.store.parent / "serve.log")
    try:
        wait_port(port, proc)
        yield Server("gunicorn", port)
    finally:
        stop(proc)
