"""Hostile HTTP, byte for byte, against both servers we run: werkzeug (the `live` kind of server) and
`lod serve` (gunicorn + the asgi front, as in production).

Each case of corpus.HTTP_CASES is sent on a raw socket (so requests no client library would send can
be sent) and must get an allowed status, no injected header, no file content, no 5xx, and -- for
redirects -- a Location on the public base. Related: tests/test_resources.py (negotiation rules, awkward
IRIs, proxy), tests/test_negotiation.py (parser), tests/test_dataset_web.py (dump names).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from hostile.conftest import Server, count
from hostile.corpus import HTTP_CASES, Case, Http

BASE = "http://localhost:8080/"
LEAKS = (b"root:x:0:0", b"SQLite format 3", b"[builds]", b"oai-secret")


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def send(port: int, req: Http) -> Answer:
    if req.raw is not None:
        data = req.raw
    else:
        lines = [f"{req.method} {req.target} HTTP/1.1"]
        if not any(h.lower().startswith("host:") for h in req.headers):
            lines.append(f"Host: 127.0.0.1:{port}")
        lines += list(req.headers)
        if req.body and not any(h.lower().startswith("content-length:") for h in req.headers):
            lines.append(f"Content-Length: {len(req.body)}")
        lines.append("Connection: close")
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + req.body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        def push() -> None:
            try:
                s.sendall(data)
            except OSError:
                pass                   # the server answered (413...) and stopped reading: read its answer

        sender = threading.Thread(target=push, daemon=True)
        sender.start()
        chunks: list[bytes] = []
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
            if _complete(b"".join(chunks)):
                break              # a server may keep the connection open after a complete answer
    raw = b"".join(chunks)
    if not raw:
        return Answer(0, [], b"")      # closed without answering
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines and lines[0].startswith("HTTP/1."), f"no HTTP answer: {raw[:200]!r}"
    status = int(lines[0].split()[1])
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if ":" in line]
    return Answer(status, headers, body)  # type: ignore[arg-type]


def _complete(raw: bytes) -> bool:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(body) >= int(value.strip())
    return False


@pytest.fixture(scope="module")
def werkzeug_server(hostile_built) -> Iterator[Server]:  # noqa: ANN001
    from conftest import LiveServer, make_app

    srv = LiveServer(make_app(hostile_built, sparql_workers=1))   # its own app: close() ends its workers
    yield Server("werkzeug", srv.port)
    srv.close()


@pytest.fixture(scope="module")
def gunicorn_server(hostile_gunicorn: Server) -> Server:
    return hostile_gunicorn


@pytest.fixture(params=["werkzeug", "gunicorn"])
def server(request: pytest.FixtureRequest) -> Server:
    return request.getfixturevalue(f"{request.param}_server")


@pytest.mark.parametrize("case", HTTP_CASES, ids=lambda c: c.id)
def test_http(case: Case, server: Server) -> None:
    req: Http = case.input
    allowed = req.status[server.name] if isinstance(req.status, dict) else req.status
    t0 = time.monotonic()
    ans = send(server.port, req)
    assert time.monotonic() - t0 < 20
    assert ans.status in allowed, (ans.status, ans.headers, ans.body[:300])
    names = {k.lower() for k, _ in ans.headers}
    assert "x-injected" not in names and "set-cookie" not in names, ans.headers
    for leak in LEAKS:
        assert leak not in ans.body, leak
    if req.ctype and ans.status in (200, 303, 400, 406):
        assert (ans.header("Content-Type") or "").startswith(req.ctype), ans.header("Content-Type")
    if req.location and ans.status == 303:
        assert (ans.header("Location") or "").startswith(BASE), ans.header("Location")
    count("http")


def test_servers_still_answer_after_the_corpus(werkzeug_server: Server, gunicorn_server: Server) -> None:
    for srv in (werkzeug_server, gunicorn_server):
        ans = send(srv.port, Http("/data/document/116814.ttl", {200}))
        assert ans.status == 200 and b"116814" in ans.body
