"""A query worker that has grown past sparql_worker_max_mb retires after its answer.

Real worker processes over a real store (tests/sparql_support.make_store). With a 1 MB limit every
worker is over it after its first answer, so each query is answered by a fresh process: the answers
must still be right, the pool must never refuse or fail the next query (even with no queue), and no
worker may be left behind as a zombie or orphan. With 0 the same worker answers everything.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sparql_support import make_store
from test_sparql_limits import _worker_processes as _live_workers

from lod.sparql.executor import Executor, Job
from lod.store import Layout

BASE = "http://localhost:8080/"
PRO = "PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/> PREFIX dcterms: <http://purl.org/dc/terms/> "
N_DOCS = 12           # make_store gives document i the year 1950 + i % 12: one document a year


def _since(year: int) -> str:
    return PRO + f'SELECT (COUNT(?d) AS ?n) WHERE {{ ?d a crm:E31_Document ; dcterms:date ?y FILTER (STR(?y) >= "{year}") }}'


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("retire") / "store", BASE, n_docs=N_DOCS)


@pytest.fixture(scope="module")
def oxigraph_dir(store: Path) -> str:
    build = Layout(store).current()
    assert build is not None
    return str(build / "oxigraph")


def _count(ex: Executor, store_dir: str, year: int) -> int:
    out = ex.run(Job(store_dir, _since(year), "json", 100), time.monotonic() + 30)
    assert out.kind == "ok", out
    return int(json.loads(out.body)["results"]["bindings"][0]["n"]["value"])


def _one_worker(ex: Executor, baseline: set[int], timeout: float = 30) -> int:
    """The pid of this executor's single ready worker (waiting for a replacement to come up)."""
    deadline = time.monotonic() + timeout
    while True:
        mine = _live_workers() - baseline
        if ex.alive == 1 and len(mine) == 1:
            return mine.pop()
        assert time.monotonic() < deadline, f"alive={ex.alive}, processes={mine}"
        time.sleep(0.02)


def _assert_gone(pids: set[int], timeout: float = 10) -> None:
    """Each pid is reaped: no process of that id at all (not running, not a zombie, not an orphan)."""
    deadline = time.monotonic() + timeout
    left = set(pids)
    while left:
        left = {p for p in left if os.path.exists(f"/proc/{p}")}
        assert not left or time.monotonic() < deadline, {p: open(f"/proc/{p}/stat").read() for p in left}
        time.sleep(0.02)


def test_setting_reaches_the_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOD_SPARQL_WORKER_MAX_MB", raising=False)
    assert Executor(workers=1).max_mb == 160
    monkeypatch.setenv("LOD_SPARQL_WORKER_MAX_MB", "1")
    assert Executor(workers=1).max_mb == 1
    assert Executor(workers=1, max_mb=0).max_mb == 0


def test_the_app_setting_reaches_the_endpoints_pool(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lod.web.app import create_app
    from lod.web.sparql import endpoint_for

    monkeypatch.delenv("LOD_SPARQL_WORKER_MAX_MB", raising=False)
    app = create_app({"store": str(store), "base_uri": BASE, "sparql_worker_max_mb": 7})
    ep = endpoint_for(app)
    try:
        assert ep.executor.max_mb == 7
    finally:
        ep.executor.close()


def test_a_worker_over_the_limit_retires_and_every_answer_stands(oxigraph_dir: str) -> None:
    baseline = _live_workers()
    ex = Executor(workers=1, queue=2, max_mb=1)
    ex.start()
    seen: list[int] = []
    try:
        for k in range(5):
            seen.append(_one_worker(ex, baseline))
            assert _count(ex, oxigraph_dir, 1950 + k) == N_DOCS - k
            _assert_gone({seen[-1]})                 # the answering worker exited and was reaped
        bad = ex.run(Job(oxigraph_dir, "SELEC ?x WHERE {}", "json", 10), time.monotonic() + 30)
        assert bad.kind == "syntax"                  # an error reply retires its worker too
        seen.append(_one_worker(ex, baseline))
        assert len(set(seen)) == len(seen) == 6      # a new process every time
        assert ex.retired == 6 and ex.kills == 0
    finally:
        ex.close()
    _assert_gone(set(seen))
    assert not (_live_workers() - baseline)


def test_no_queue_back_to_back_queries_wait_for_the_replacement(oxigraph_dir: str) -> None:
    """queue=0: the query right after a retirement waits for the worker being started, never a 503."""
    baseline = _live_workers()
    ex = Executor(workers=1, queue=0, max_mb=1)
    ex.start()
    try:
        _one_worker(ex, baseline)
        waits = []
        for k in range(4):
            t0 = time.monotonic()
            assert _count(ex, oxigraph_dir, 1950 + k) == N_DOCS - k
            waits.append(time.monotonic() - t0)
        assert ex.retired == 4
        assert max(waits) < 20, waits                # a worker start, not a time limit (noisy machine)
    finally:
        ex.close()
    time.sleep(0.1)
    assert not (_live_workers() - baseline)


def test_zero_never_retires(oxigraph_dir: str) -> None:
    baseline = _live_workers()
    ex = Executor(workers=1, queue=2, max_mb=0)
    ex.start()
    try:
        first = _one_worker(ex, baseline)
        for k in range(4):
            assert _count(ex, oxigraph_dir, 1950 + k) == N_DOCS - k
            assert _one_worker(ex, baseline) == first
        assert ex.retired == 0
    finally:
        ex.close()
    _assert_gone({first})


def test_the_awaited_path_retires_too(oxigraph_dir: str) -> None:
    """run_async: on a free worker (awaited on the loop) and right after a retirement (thread fallback)."""
    baseline = _live_workers()
    ex = Executor(workers=1, queue=2, max_mb=1)
    ex.start()

    async def count(year: int) -> int:
        out = await ex.run_async(Job(oxigraph_dir, _since(year), "json", 100), time.monotonic() + 30)
        assert out.kind == "ok", out
        return int(json.loads(out.body)["results"]["bindings"][0]["n"]["value"])

    async def main() -> list[int]:
        seen = []
        for k in range(3):                          # a free worker each time: the awaited path
            seen.append(_one_worker(ex, baseline))
            assert await count(1950 + k) == N_DOCS - k
        for k in range(3, 6):                       # back to back: no worker free yet
            assert await count(1950 + k) == N_DOCS - k
        seen.append(_one_worker(ex, baseline))
        return seen

    try:
        seen = asyncio.run(main())
        assert len(set(seen)) == 4 and ex.retired == 6
    finally:
        ex.close()
    _assert_gone(set(seen))
    assert not (_live_workers() - baseline)


def test_a_one_shot_pool_starts_no_replacement(oxigraph_dir: str) -> None:
    """replace=False (lod query): the retired worker is reaped and nothing new is started."""
    baseline = _live_workers()
    ex = Executor(workers=1, queue=0, replace=False, max_mb=1)
    ex.start()
    try:
        first = _one_worker(ex, baseline)
        assert _count(ex, oxigraph_dir, 1950) == N_DOCS
        assert ex.alive == 0 and ex.retired == 1
        _assert_gone({first})
        time.sleep(0.3)
        assert not (_live_workers() - baseline)
    finally:
        ex.close()


def test_lod_query_with_a_retiring_worker_leaves_nothing_behind(store: Path) -> None:
    """The real command in its own session, its worker over the limit: right answer, no process left."""
    env = dict(os.environ, LOD_SPARQL_WORKER_MAX_MB="1")
    proc = subprocess.Popen([sys.executable, "-c", "from lod.cli import main; main()", "query", "--store", str(store),
                             "--base-uri", BASE, "--format", "csv", _since(1953)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, env=env)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
    assert proc.returncode == 0, err
    assert out.decode().split() == ["n", str(N_DOCS - 3)]
    assert b"retired at" in err                      # the one log line, with the worker's RSS
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


def _store_files(pid: int, store_dir: str) -> list[str]:
    """Files of the store the process holds open (RocksDB keeps its tables open while the store is)."""
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(os.path.realpath(store_dir)):
            found.append(target)
    return found


@contextmanager
def _single(**kw: Any) -> Iterator[tuple[Executor, int]]:
    """A one-worker pool (settings ``kw``) and its worker's pid; on leaving, the pool is closed and the
    worker reaped."""
    baseline = _live_workers()
    ex = Executor(workers=1, queue=2, max_mb=0, **kw)
    ex.start()
    pid = 0
    try:
        pid = _one_worker(ex, baseline)
        yield ex, pid
        assert _one_worker(ex, baseline) == pid and ex.retired == 0     # the same process throughout
    finally:
        ex.close()
    _assert_gone({pid})


def test_an_idle_worker_closes_its_store_and_reopens_it_for_the_next_query(oxigraph_dir: str) -> None:
    """idle_s/idle_mb: the store (and what RocksDB cached for it) goes after a quiet spell; the same process
    answers the next query from a reopened store."""
    with _single(idle_s=0.3, idle_mb=0) as (ex, pid):
        assert _count(ex, oxigraph_dir, 1950) == N_DOCS
        assert _store_files(pid, oxigraph_dir), "the store is open after a query"
        deadline = time.monotonic() + 10
        while _store_files(pid, oxigraph_dir):
            assert time.monotonic() < deadline, "an idle worker kept its store open"
            time.sleep(0.05)
        assert _count(ex, oxigraph_dir, 1955) == N_DOCS - 5


def test_a_busy_worker_keeps_its_store_open(oxigraph_dir: str) -> None:
    """Queries closer together than idle_s find the store open: no reopening between them."""
    with _single(idle_s=30, idle_mb=0) as (ex, pid):
        assert _count(ex, oxigraph_dir, 1950) == N_DOCS
        end = time.monotonic() + 0.5
        while time.monotonic() < end:               # never closed in between
            assert _store_files(pid, oxigraph_dir)
            time.sleep(0.02)
        assert _count(ex, oxigraph_dir, 1951) == N_DOCS - 1
        assert _store_files(pid, oxigraph_dir)


# ----------------------------------------------------------------------------------- idle workers exit
def test_an_unused_worker_exits_and_the_next_query_starts_one(oxigraph_dir: str) -> None:
    """idle_exit_s: a pool left alone holds no process at all; the next query (even with no queue) starts
    one and is answered, and a pool in use keeps its worker."""
    baseline = _live_workers()
    ex = Executor(workers=1, queue=0, idle_exit_s=0.4)
    ex.start()
    try:
        first = _one_worker(ex, baseline)
        for k in range(4):                          # queries closer together than idle_exit_s: same worker
            assert _count(ex, oxigraph_dir, 1950 + k) == N_DOCS - k
            time.sleep(0.1)
        assert _one_worker(ex, baseline) == first and ex.exited_idle == 0
        deadline = time.monotonic() + 10
        while ex.alive:
            assert time.monotonic() < deadline, "an unused worker stayed"
            time.sleep(0.05)
        _assert_gone({first})
        assert ex.exited_idle == 1 and not (_live_workers() - baseline)
        assert _count(ex, oxigraph_dir, 1955) == N_DOCS - 5     # started on demand, never a 503
        second = _one_worker(ex, baseline)
        assert second != first
    finally:
        ex.close()
    _assert_gone({second})


def test_queries_arriving_together_after_an_idle_exit_are_all_answered(oxigraph_dir: str) -> None:
    """Two workers gone idle; six queries at once (awaited path and threads) start what the pool's size
    allows and all get their answer."""
    baseline = _live_workers()
    ex = Executor(workers=2, queue=8, idle_exit_s=0.2)
    ex.start()
    try:
        deadline = time.monotonic() + 10
        while ex.exited_idle < 2:                   # both came up, then both went
            assert time.monotonic() < deadline, (ex.alive, ex.exited_idle)
            time.sleep(0.05)
        assert ex.alive == 0

        async def many() -> list[int]:
            async def one(k: int) -> int:
                out = await ex.run_async(Job(oxigraph_dir, _since(1950 + k), "json", 100), time.monotonic() + 30)
                assert out.kind == "ok", out
                return int(json.loads(out.body)["results"]["bindings"][0]["n"]["value"])
            return list(await asyncio.gather(*(one(k) for k in range(6))))

        assert asyncio.run(many()) == [N_DOCS - k for k in range(6)]
        assert 1 <= ex.alive <= 2 and len(_live_workers() - baseline) <= 2
    finally:
        ex.close()
    time.sleep(0.1)
    assert not (_live_workers() - baseline)


def test_the_idle_exit_setting_reaches_the_endpoints_pool(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lod.web.app import create_app
    from lod.web.sparql import endpoint_for

    monkeypatch.delenv("LOD_SPARQL_WORKER_IDLE_EXIT_S", raising=False)
    app = create_app({"store": str(store), "base_uri": BASE})
    assert endpoint_for(app).executor.idle_exit_s == 60.0
    endpoint_for(app).executor.close()
    monkeypatch.setenv("LOD_SPARQL_WORKER_IDLE_EXIT_S", "2.5")
    app = create_app({"store": str(store), "base_uri": BASE})
    assert endpoint_for(app).executor.idle_exit_s == 2.5
    endpoint_for(app).executor.close()
