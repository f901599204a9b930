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
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
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
