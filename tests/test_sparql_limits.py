"""Time limit, concurrency limit and queue, over real HTTP, with concurrent clients.

A cross join over everything and a "catastrophic" regex (^(a+)+$ over long strings) must both stop
near the configured limit (2 s here) with a clear error, while other queries keep being answered;
the killed workers come back. Saturating the pool gives 503 + Retry-After at once, not a hang.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
import requests
from conftest import LiveServer
from sparql_support import make_store

from lod.web.app import create_app

BASE = "http://localhost:8080/"
LIMIT = 2.0
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# Oxigraph's regex engine does not backtrack, so one match is linear; the danger is volume: the
# pattern runs over every row of a cross join, on strings of thousands of characters.
EVIL_REGEX = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i "
              f'FILTER (REGEX(CONCAT(STR(?c), STR(?f), STR(?i), "{"a" * 5000}!"), "^(a+)+$")) }}')
FAST = "ASK { ?s ?p ?o }"


def _server(store: Path, **overrides: object) -> LiveServer:
    app = create_app({"store": str(store), "base_uri": BASE, "sparql_timeout": LIMIT, **overrides})
    return LiveServer(app)


def _executor(srv: LiveServer):  # noqa: ANN202
    return srv.app.extensions["lod_sparql"].executor


def _wait_workers(srv: LiveServer, n: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while _executor(srv).alive < n:
        assert time.monotonic() < deadline, f"only {_executor(srv).alive} of {n} workers came up"
        time.sleep(0.05)


def _worker_processes(baseline: set[int] | frozenset[int] = frozenset()) -> set[int]:
    """Live `lod.sparql.worker` children of this test process (what really runs, not what the pool thinks).

    ``baseline``: workers that already ran before this test's server started (other tests' apps in the
    same session) are not this test's business."""
    pids: set[int] = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        try:
            kids = open(f"/proc/{os.getpid()}/task/{task}/children").read().split()
        except OSError:
            continue
        for k in kids:
            try:
                cmd = open(f"/proc/{k}/cmdline", "rb").read()
                stat = open(f"/proc/{k}/stat").read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if b"lod.sparql.worker" in cmd and stat != "Z":
                pids.add(int(k))
    pids -= set(baseline)
    return pids


def _get(srv: LiveServer, query: str) -> tuple[requests.Response, float]:
    t0 = time.monotonic()
    r = requests.get(srv.url + "sparql", params={"query": query}, timeout=60)
    return r, time.monotonic() - t0


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("sparql-limits") / "store", BASE)


def test_slow_queries_stop_near_the_limit_while_others_are_answered(store: Path) -> None:
    before = _worker_processes()
    srv = _server(store, sparql_workers=3, sparql_queue=4)
    try:
        assert _get(srv, FAST)[0].status_code == 200
        _wait_workers(srv, 3)
        slow: dict[str, tuple[requests.Response, float]] = {}

        def run(name: str, q: str) -> None:
            slow[name] = _get(srv, q)

        threads = [threading.Thread(target=run, args=(n, q)) for n, q in
                   (("cross join", CROSS_JOIN), ("regex", EVIL_REGEX))]
        for t in threads:
            t.start()
        time.sleep(0.3)
        fast_times = []
        while any(t.is_alive() for t in threads):
            r, took = _get(srv, FAST)
            assert r.status_code == 200 and r.json()["boolean"] is True
            fast_times.append(took)
            time.sleep(0.1)
        for t in threads:
            t.join()
        assert len(fast_times) >= 5, "too few queries answered while the slow ones ran"
        assert max(fast_times) < 1.0, fast_times
        for name, (r, took) in slow.items():
            assert r.status_code == 503, (name, r.status_code, r.text[:200])
            assert r.text.startswith("Query timeout: the query ran longer than this endpoint's limit of 2 s")
            assert r.headers["X-SPARQL-Timeout"] == "2" and "Retry-After" not in r.headers
            assert LIMIT - 0.1 <= took < LIMIT + 3.0, (name, took)
        assert _executor(srv).kills == 2
        _wait_workers(srv, 3)   # the killed workers were replaced, once each
        time.sleep(1.0)
        assert _executor(srv).alive == 3
        assert _worker_processes(before) == {s.proc.pid for s in _executor(srv)._all}
        assert _get(srv, FAST)[0].status_code == 200
    finally:
        srv.close()
        _executor(srv).close()


def test_saturated_endpoint_answers_503_with_retry_after(store: Path) -> None:
    before = _worker_processes()
    srv = _server(store, sparql_workers=1, sparql_queue=1)
    try:
        assert _get(srv, FAST)[0].status_code == 200
        _wait_workers(srv, 1)
        results: dict[int, tuple[requests.Response, float]] = {}

        def run(i: int) -> None:
            results[i] = _get(srv, CROSS_JOIN)

        threads = []
        for i in range(3):          # one runs, one waits in the queue, the third finds the queue full
            threads.append(threading.Thread(target=run, args=(i,)))
            threads[-1].start()
            time.sleep(0.3)
        for t in threads:
            t.join()
        busy = [(r, took) for r, took in results.values() if "busy" in r.text]
        assert busy, [r.text for r, _ in results.values()]
        quick = min(busy, key=lambda x: x[1])
        assert quick[0].status_code == 503 and quick[0].headers["Retry-After"] == "2"
        assert quick[1] < 1.0, "a full queue must be refused at once"
        assert all(r.status_code == 503 for r, _ in results.values())
        _wait_workers(srv, 1)
        assert _get(srv, FAST)[0].status_code == 200   # it did not fall over
        time.sleep(1.0)
        assert _executor(srv).alive == 1 and len(_worker_processes(before)) == 1   # no worker leaked
    finally:
        srv.close()
        _executor(srv).close()


def test_worker_killed_from_outside_is_replaced(store: Path) -> None:
    srv = _server(store, sparql_workers=1, sparql_queue=1)
    try:
        assert _get(srv, FAST)[0].status_code == 200
        ex = _executor(srv)
        _wait_workers(srv, 1)
        (slot,) = list(ex._all)
        os.kill(slot.proc.pid, signal.SIGKILL)
        slot.proc.wait(5)
        r, _ = _get(srv, FAST)
        assert r.status_code == 200
        assert slot not in ex._all
    finally:
        srv.close()
        _executor(srv).close()


def test_workers_follow_a_newly_published_build(tmp_path: Path) -> None:
    root = make_store(tmp_path / "store", BASE, n_docs=3)
    srv = _server(root, sparql_workers=1)
    q = "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a <http://www.cidoc-crm.org/cidoc-crm/E31_Document> }"
    try:
        assert _get(srv, q)[0].json()["results"]["bindings"][0]["n"]["value"] == "3"
        time.sleep(1.1)                       # build ids have a one-second resolution
        make_store(root, BASE, n_docs=5)      # a new build, published atomically (CURRENT replaced)
        assert _get(srv, q)[0].json()["results"]["bindings"][0]["n"]["value"] == "5"
    finally:
        srv.close()
        _executor(srv).close()
