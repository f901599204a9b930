"""Faults: corrupted store directories, a build killed with SIGKILL while serving, Wikidata down or
rate-limiting during reconcile/build, a new broken build while serving, and a soak of mixed traffic.

Promises (docs/reliability.md): a corrupted store is a clear start-up error naming it (create_app
raises StoreError; `lod serve` exits 2 with the path), never a half-served dataset; a killed build leaves
the published dataset served unchanged (same answers, same ETags) and the next build succeeds;
Wikidata trouble costs freshness, never the build; under load, no errors and no 5xx except the
documented 503 back-pressure, memory flat. The remote store going down and coming back while serving
(503 + Retry-After, recovery without restart) is proved against a real Virtuoso in
tests/test_remote_store.py (test_store_down_gives_503_with_retry_after_and_recovers,
test_a_node_starts_while_the_store_is_down_and_recovers).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from conftest import BASE, Built, build_into, make_app

from lod.store import StoreError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))   # bench/ (the soak's load generator)


def _build_dir(store: Path) -> Path:
    return store / "builds" / (store / "CURRENT").read_text().strip()


def _garbage_files(d: Path, pattern: str, how: str) -> None:
    files = sorted(d.glob(pattern))
    assert files, (d, pattern)
    for p in files:
        data = p.read_bytes()
        p.write_bytes(data[: len(data) // 2] if how == "truncate" else os.urandom(max(len(data), 64)))


# what is broken -> (how to break a copy of a good store, the path the error must name)
CORRUPTIONS: dict[str, Callable[[Path], Path]] = {
    "CURRENT garbage bytes": lambda s: ((s / "CURRENT").write_bytes(b"\x00\xff\xfe garbage\n"), s / "CURRENT")[1],
    "CURRENT empty": lambda s: ((s / "CURRENT").write_bytes(b""), s / "CURRENT")[1],
    "CURRENT names a missing build": lambda s: ((s / "CURRENT").write_text("20990101T000000-1\n"), s / "CURRENT")[1],
    "CURRENT points outside builds/": lambda s: ((s / "CURRENT").write_text("../../..\n"), s / "CURRENT")[1],
    "build directory missing": lambda s: (shutil.rmtree(_build_dir(s)), s / "CURRENT")[1],
    "oxigraph directory missing": lambda s: (shutil.rmtree(_build_dir(s) / "oxigraph"), _build_dir(s))[1],
    "RocksDB CURRENT garbage": lambda s: ((_build_dir(s) / "oxigraph" / "CURRENT").write_bytes(b"garbage\n"),
                                          _build_dir(s))[1],
    "RocksDB MANIFEST garbage": lambda s: (_garbage_files(_build_dir(s) / "oxigraph", "MANIFEST-*", "garbage"),
                                           _build_dir(s))[1],
    "RocksDB tables truncated": lambda s: (_garbage_files(_build_dir(s) / "oxigraph", "*.sst", "truncate"),
                                           _build_dir(s))[1],
    "RocksDB tables garbage": lambda s: (_garbage_files(_build_dir(s) / "oxigraph", "*.sst", "garbage"),
                                         _build_dir(s))[1],
    "catalog.sqlite garbage": lambda s: ((_build_dir(s) / "catalog.sqlite").write_bytes(os.urandom(20000)),
                                         _build_dir(s))[1],
    "catalog.sqlite truncated": lambda s: (_garbage_files(_build_dir(s), "catalog.sqlite", "truncate"),
                                           _build_dir(s))[1],
    "catalog.sqlite missing": lambda s: ((_build_dir(s) / "catalog.sqlite").unlink(), _build_dir(s))[1],
    "dumps directory missing": lambda s: (shutil.rmtree(_build_dir(s) / "dumps"), _build_dir(s))[1],
    "store is a file": lambda s: (shutil.rmtree(s), s.write_text("not a store"), s)[2],
}


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build_into(tmp_path_factory.mktemp("faults-good"))


@pytest.fixture
def broken(request: pytest.FixtureRequest, good: Built, tmp_path: Path) -> tuple[Path, Path]:
    store = tmp_path / "store"
    shutil.copytree(good.store, store)
    named = CORRUPTIONS[request.param](store)
    return store, named


@pytest.mark.parametrize("broken", list(CORRUPTIONS), indirect=True)
def test_corrupted_store_is_a_clear_start_up_error(broken: tuple[Path, Path], good: Built) -> None:
    store, named = broken
    with pytest.raises(StoreError) as e:
        make_app(Built(store, good.data, BASE, None))
    assert str(named) in str(e.value), str(e.value)


@pytest.mark.parametrize("broken", ["CURRENT garbage bytes", "CURRENT names a missing build", "RocksDB tables garbage",
                                    "catalog.sqlite garbage", "dumps directory missing", "store is a file"],
                         indirect=True)
def test_lod_serve_refuses_a_corrupted_store_with_exit_2(broken: tuple[Path, Path], good: Built) -> None:
    from hostile.conftest import free_port

    store, named = broken
    port = free_port()
    p = subprocess.run([sys.executable, "-c", "from lod.cli import main; main()", "serve", "--store", str(store),
                        "--data", str(good.data), "--port", str(port), "--workers", "1"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 2, (p.returncode, p.stderr[-600:])
    assert str(named) in p.stderr and "Traceback" not in p.stderr, p.stderr[-600:]


def test_a_broken_new_build_while_serving_keeps_the_old_one(good: Built, tmp_path: Path) -> None:
    """CURRENT replaced by garbage under a running app: it keeps serving the build it has, same ETag."""
    store = tmp_path / "store"
    shutil.copytree(good.store, store)
    c = make_app(Built(store, good.data, BASE, None)).test_client()
    before = c.get("/data/document/116814.ttl")
    assert before.status_code == 200
    time.sleep(0.01)
    (store / "CURRENT").write_bytes(b"\x00 garbage")
    after = c.get("/data/document/116814.ttl")
    assert after.status_code == 200 and after.data == before.data and after.headers["ETag"] == before.headers["ETag"]
    r = c.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    ep = c.application.extensions.get("lod_sparql")
    if ep is not None:
        ep.executor.close()


# ----------------------------------------------------------------------------------- kill -9 while serving
def _snapshot(root: str) -> dict[str, tuple[int, bytes, str | None]]:
    urls = {"document ttl": "data/document/116814.ttl", "person jsonld": "data/person/liu-shaoqi.jsonld",
            "thing 303": "id/document/116814", "void": ".well-known/void",
            "sparql": "sparql?query=SELECT%20(COUNT(*)%20AS%20%3Fn)%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
            "oai": "oai?verb=ListIdentifiers&metadataPrefix=oai_dc"}
    out = {}
    for name, path in urls.items():
        r = requests.get(root + path, timeout=30, allow_redirects=False,
                         headers={"Accept": "application/sparql-results+json" if name == "sparql" else "text/turtle"})
        body = r.content
        if name == "oai":   # the response date changes by the second; the records listed must not
            body = re.sub(rb"<responseDate>[^<]*</responseDate>", b"", body)
        out[name] = (r.status_code, body, r.headers.get("ETag"))
    return out


@pytest.mark.slow
def test_kill_9_of_a_build_while_serving_changes_nothing_served(tmp_path: Path) -> None:
    from bench.generate import write_data
    from bench.harness import LodServer
    from lod.store import Layout

    built = build_into(tmp_path)
    layout = Layout(built.store)
    published = layout.pointer.read_text()
    server = LodServer(built.store, BASE, workers=1)
    try:
        server.wait(".well-known/void")
        pid = server.pid
        before = _snapshot(server.root)
        assert all(s in (200, 303) for s, _, _ in before.values()), {k: v[0] for k, v in before.items()}
        big = write_data(800, tmp_path / "big", seed=3, progress=False)
        env = {**os.environ, "LOD_STORE": str(built.store), "LOD_DATA": str(big), "LOD_BASE_URI": BASE}
        proc = subprocess.Popen([sys.executable, "-c", "from lod.cli import main; main()", "build", "--progress"],
                                env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
        try:
            assert proc.stderr is not None
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                m = re.match(r"mapping: (\d+)/", line)
                if m and int(m.group(1)) >= 200:
                    break
                assert line or proc.poll() is None, "the build ended before it could be killed"
            wreck = [p for p in (built.store / "builds").iterdir() if p.name != published.strip()]
            assert wreck, "a new build was being written"
            during = _snapshot(server.root)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        after = _snapshot(server.root)
        assert during == before and after == before      # same answers, same ETags, while and after
        assert layout.pointer.read_text() == published
        # the next build succeeds; the same server (no restart) serves it
        r = subprocess.run([sys.executable, "-c", "from lod.cli import main; main()", "build", "--store",
                            str(built.store), "--data", str(built.data), "--base-uri", BASE],
                           capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert r.returncode == 0, r.stderr[-800:]           # the next build into this store succeeds
        assert layout.pointer.read_text() != published
        assert not any(p.name == wreck[0].name for p in (built.store / "builds").iterdir())
        time.sleep(0.05)
        new = _snapshot(server.root)
        assert new["document ttl"][0] == 200 and new["document ttl"][2] != before["document ttl"][2]
        assert new["sparql"][1] == before["sparql"][1]     # the same data, now from the new build
        assert server.pid == pid and server.proc.poll() is None
    finally:
        server.stop()


# ----------------------------------------------------------------------------------- Wikidata trouble
def _reconcile(api: str, sparql: str, data: Path, *args: str):  # noqa: ANN202 - click Result
    from click.testing import CliRunner

    from lod.cli import cli
    argv = ["reconcile", "--data", str(data), "--wikidata-api", api, "--wikidata-sparql", sparql,
            "--cache-dir", str(data.parent / "cache"), "--wikidata-backoff", "0.001", "--wikidata-timeout", "1",
            "--wikidata-retries", "2", "--contact", "ops@example.org", *args]
    env = {"LOD_CONTACT": "", "LOD_OFFLINE": "", "LOD_RECONCILE_SERVICE": "", "USER": "tester"}
    return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)


@pytest.fixture
def rdata(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(ROOT / "data" / "authority.yaml", d / "authority.yaml")
    shutil.copytree(ROOT / "data" / "records", d / "records")
    return d


def _same_as(built: Built) -> set[tuple[str, str]]:
    from lod.store import EmbeddedStore
    rows = EmbeddedStore(built.store).query(
        "SELECT ?p ?q WHERE { GRAPH ?g { ?p <http://www.w3.org/2002/07/owl#sameAs> ?q } }")
    return {(r["p"].value, r["q"].value) for r in rows}


@pytest.mark.parametrize("trouble", ["unreachable", "429"])
def test_wikidata_trouble_costs_freshness_never_the_build(trouble: str, rdata: Path, tmp_path: Path) -> None:
    from wikidata_fake import FakeServer

    from lod.authority import Authority

    srv = FakeServer()
    fake = srv.fake
    try:
        assert _reconcile(fake.api, fake.sparql, rdata).exit_code == 0          # a good run fills the cache
        first = build_into(tmp_path / "b1", data=rdata)
        links = _same_as(first)
        assert links
        auth = Authority.load(rdata / "authority.yaml")
        auth.add_unknown("Vasily Vasilyevich Kuznetsov", "person")               # new since: not in the cache
        auth.save(rdata / "authority.yaml")
        if trouble == "unreachable":
            srv.close()
        else:
            fake.retry_after = "0"
            fake.plan("429", times=10_000)
        r = _reconcile(fake.api, fake.sparql, rdata)
        assert r.exit_code == 1, r.output                           # incomplete, and says so
        assert "vasily-vasilyevich-kuznetsov" in r.stderr and "FAILED" in r.stderr, r.stderr[-1500:]
        assert ("HTTP 429" in r.stderr) == (trouble == "429")
        failed = [line for line in r.stderr.splitlines() if line.startswith("FAILED")]
        assert failed and all("vasily-vasilyevich-kuznetsov" in line for line in failed), failed
        review = (rdata / "reconcile" / "review.yaml").read_text("utf-8")
        assert "vasily-vasilyevich-kuznetsov" in review
        # the build never calls Wikidata: it completes from what the data holds, links unchanged
        from hostile.conftest import no_network
        with no_network() as guard:
            again = build_into(tmp_path / "b2", data=rdata)
        assert again.report.exit_code == 0 and guard.attempts == []
        assert _same_as(again) == links
        assert "vasily-vasilyevich-kuznetsov" in again.report.no_qid
    finally:
        if trouble != "unreachable":
            srv.close()


# ----------------------------------------------------------------------------------- soak
@pytest.mark.slow
def test_soak_mixed_traffic_c64() -> None:
    """20 s of mixed traffic at c=64 against lod serve (the full 60 s run: python -m bench.soak --write)."""
    from conftest import SUMMARY_LINES

    from bench.soak import soak
    res = soak(duration=20, concurrency=64)
    SUMMARY_LINES.append(res.summary())
    assert not res.errors, res.errors[:5]
    assert res.bad_5xx == 0
    for kind in ("deref", "sparql", "oai"):
        statuses = res.statuses[kind]
        assert sum(statuses.values()) > 50, (kind, statuses)
        assert set(statuses) <= {200, 303, 503}, (kind, statuses)
    assert res.growth <= 0.10, (res.rss_warm, res.rss_end)
