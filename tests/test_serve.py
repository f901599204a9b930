"""`lod serve` for real: gunicorn with the asyncio front, its response cache, --build-if-needed, errors."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import DATA, ROOT, build_into

LOD = [sys.executable, "-c", "from lod.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):  # noqa: ANN002, ANN003, ANN201
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=20) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


class Server:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.proc = subprocess.Popen([*LOD, "serve", "--port", str(self.port), *args], cwd=ROOT,
                                     env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, timeout: float = 90) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(self.proc.stdout.read().decode())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def served(built):  # noqa: ANN001, ANN201
    srv = Server("--store", str(built.store), "--base-uri", built.base, "--workers", "2")
    srv.wait()
    yield srv
    srv.stop()


def test_gunicorn_serves_and_the_cache_answers_the_same(served, app) -> None:  # noqa: ANN001
    flask = app.test_client()
    url = served.url + "data/document/116814.ttl"
    first = get(url)
    assert first[0] == 200 and first[1]["content-type"].startswith("text/turtle")
    for _ in range(5):                                 # later ones come from the front's cache
        again = get(url)
        assert again[2] == first[2] and again[1]["etag"] == first[1]["etag"]
    ref = flask.get("/data/document/116814.ttl")
    assert ref.data == first[2] and ref.headers["ETag"] == first[1]["etag"]
    for h in ("x-content-type-options", "access-control-allow-origin", "link", "last-modified", "cache-control"):
        assert h in first[1], h
    status, headers, body = get(url, **{"If-None-Match": first[1]["etag"]})
    assert status == 304 and body == b"" and headers["etag"] == first[1]["etag"]
    status, _, _ = get(url, **{"If-Modified-Since": first[1]["last-modified"]})
    assert status == 304


def test_negotiation_and_redirect_through_the_front(served) -> None:  # noqa: ANN001
    for _ in range(3):
        status, headers, _ = get(served.url + "id/document/116814", Accept="text/html")
        assert status == 303 and headers["location"].endswith("/data/document/116814.html")
        status, headers, _ = get(served.url + "id/document/116814", Accept="application/ld+json")
        assert status == 303 and headers["location"].endswith(".jsonld")
        status, headers, _ = get(served.url + "data/document/116814", Accept="application/rdf+xml")
        assert status == 200 and headers["content-location"].endswith(".rdf") and headers["vary"] == "Accept"
    assert get(served.url + "id/document/nothing-here", Accept="text/html")[0] == 404
    assert get(served.url + "id/document/116814", Accept="image/png")[0] == 406


def test_other_methods_and_bodies_reach_flask(served) -> None:  # noqa: ANN001
    req = urllib.request.Request(served.url + "data/document/116814.ttl", data=b"x=1", method="POST")
    try:
        urllib.request.urlopen(req, timeout=10)
        raise AssertionError("POST accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 405
    head = urllib.request.urlopen(urllib.request.Request(served.url + "data/document/116814.ttl", method="HEAD"))
    assert head.status == 200 and head.read() == b""
    # An over-long declared body is refused before it is read: 413 at once, even though no byte of it was sent.
    host, port = served.url.split("//")[1].rstrip("/").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /data/document/116814.ttl HTTP/1.1\r\nHost: " + host.encode() +
                     b"\r\nContent-Type: text/plain\r\nContent-Length: 2000001\r\n\r\n")
        first_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert first_line.split()[1] == b"413", first_line
    status, headers, body = get(served.url + "dumps/dataset.nt.gz")
    assert status == 200 and body[:2] == b"\x1f\x8b"


def test_serve_refuses_an_empty_store(tmp_path: Path) -> None:
    out = subprocess.run([*LOD, "serve", "--store", str(tmp_path / "empty"), "--port", str(free_port())],
                         cwd=ROOT, capture_output=True, timeout=60)
    assert out.returncode == 2 and b"lod build" in out.stderr


def test_build_if_needed_builds_then_serves(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    srv = Server("--store", str(tmp_path / "store"), "--data", str(data), "--build-if-needed", "--workers", "1",
                 env={"LOD_OFFLINE": "1"})
    try:
        srv.wait()
        status, headers, _ = get(srv.url + "id/document/116814")
        assert status == 303
        maps = Path(f"/proc/{srv.proc.pid}/maps")
        if maps.exists():
            # the build and the store check ran in a child: the arbiter, which lives as long as the server,
            # never loaded the store engine (nor kept the build's memory)
            assert "pyoxigraph" not in maps.read_text()
            assert int(next(line.split()[1] for line in Path(f"/proc/{srv.proc.pid}/status").read_text().splitlines()
                            if line.startswith("VmRSS:"))) < 80_000
    finally:
        srv.stop()


def test_serve_py_is_the_same_command(built) -> None:  # noqa: ANN001
    out = subprocess.run([sys.executable, "serve.py", "--help"], cwd=ROOT, capture_output=True, timeout=60)
    assert out.returncode == 0
    for flag in (b"--host", b"--port", b"--store", b"--base-uri", b"--workers", b"--build-if-needed"):
        assert flag in out.stdout


def test_a_new_build_is_served_without_restart(tmp_path: Path) -> None:
    b = build_into(tmp_path / "one")
    srv = Server("--store", str(b.store), "--base-uri", b.base, "--workers", "1")
    try:
        srv.wait()
        first = get(srv.url + "data/document/116814.ttl")
        assert first[0] == 200
        get(srv.url + "data/document/116814.ttl")
        time.sleep(1.1)
        from lod import config
        from lod.build import build
        build(config.load({"store": str(b.store), "data": str(b.data), "base_uri": b.base, "offline": True}))
        second = get(srv.url + "data/document/116814.ttl")
        assert second[0] == 200 and second[1]["etag"] != first[1]["etag"]
    finally:
        srv.stop()


def test_serve_refuses_a_port_in_use_with_exit_2(served) -> None:  # noqa: ANN001
    """Another program's socket, and another `lod serve`: one clear line and exit 2, not gunicorn's five
    retries and exit 1."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        for port in (other.getsockname()[1], served.port):
            store = served.proc.args[served.proc.args.index("--store") + 1]
            out = subprocess.run([*LOD, "serve", "--store", store, "--port", str(port)], cwd=ROOT,
                                 capture_output=True, text=True, timeout=60)
            assert out.returncode == 2, out.stderr
            assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in out.stderr
            assert "Traceback" not in out.stderr
