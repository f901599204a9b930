"""The production front answers /sparql itself (lod.web.asgi + lod.web.sparql_http): same answers as Flask.

The front is driven in-process through its ASGI interface (scope, receive, send), with the real worker
processes; the gunicorn path over real HTTP is in test_serve. Three things are held here:

* every request in a mixed list (formats, methods, errors, refusals) gets the same status, body and
  headers from the front as from the Flask view;
* the awaited worker path keeps the time limit: a cross join stops near it while a short query is
  answered meanwhile, and the killed worker comes back;
* a full pool still queues and refuses (503 + Retry-After); a client that goes away mid-query costs
  its worker, which is replaced.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sparql_support import make_store

from lod.web.app import create_app
from lod.web.asgi import Front

BASE = "http://localhost:8080/"
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
FAST = "ASK { ?s ?p ?o }"
IGNORED = {"date", "server", "content-length"}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("front"), BASE)


def _front(store: Path, **overrides: object) -> Front:
    return Front(create_app({"store": str(store), "base_uri": BASE, **overrides}))


def _close(front: Front) -> None:
    ep = front.app.extensions.get("lod_sparql")
    if ep is not None:
        ep.executor.close()
    front.executor.shutdown(wait=False)
    front.waiting.shutdown(wait=False)


def q(query: str) -> bytes:
    return urlencode({"query": query}).encode()


async def _call(front: Front, method: str, path: str, query_string: bytes = b"",
                headers: dict[str, str] | None = None, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request through the ASGI interface, as gunicorn would make it."""
    raw_headers = [(b"host", b"localhost")] + [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if body:
        raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
             "query_string": query_string, "headers": raw_headers, "http_version": "1.1",
             "scheme": "http", "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000)}
    sent = False
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(msg: dict[str, Any]) -> None:
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
            out["headers"] = {k.decode(): v.decode() for k, v in msg["headers"]}
        else:
            out["body"] += msg.get("body", b"")

    await front(scope, receive, send)
    return out["status"], out["headers"], out["body"]


SELECT = "SELECT ?doc ?title WHERE { ?doc <http://purl.org/dc/terms/title> ?title } ORDER BY ?doc"
CONSTRUCT = "CONSTRUCT { ?doc <http://purl.org/dc/terms/title> ?t } WHERE { ?doc <http://purl.org/dc/terms/title> ?t }"
CASES: list[tuple[str, dict[str, Any]]] = [
    ("select json", {"method": "GET", "query": {"query": SELECT}, "headers": {"Accept": "application/sparql-results+json"}}),
    ("select xml", {"method": "GET", "query": {"query": SELECT}, "headers": {"Accept": "application/sparql-results+xml"}}),
    ("select csv by format", {"method": "GET", "query": {"query": SELECT, "format": "csv"}}),
    ("select tsv q-values", {"method": "GET", "query": {"query": SELECT},
                             "headers": {"Accept": "text/csv;q=0.5, text/tab-separated-values"}}),
    ("ask", {"method": "GET", "query": {"query": FAST}, "headers": {"Accept": "application/sparql-results+json"}}),
    ("construct turtle", {"method": "GET", "query": {"query": CONSTRUCT}, "headers": {"Accept": "text/turtle"}}),
    ("construct json-ld", {"method": "GET", "query": {"query": CONSTRUCT}, "headers": {"Accept": "application/ld+json"}}),
    ("post form", {"method": "POST", "headers": {"Content-Type": "application/x-www-form-urlencoded"},
                   "body": urlencode({"query": SELECT}).encode()}),
    ("post direct", {"method": "POST", "headers": {"Content-Type": "application/sparql-query"},
                     "body": SELECT.encode()}),
    ("syntax error", {"method": "GET", "query": {"query": "SELECT ?x WHERE { ?x"}}),
    ("update refused", {"method": "GET", "query": {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}}),
    ("update by media type", {"method": "POST", "headers": {"Content-Type": "application/sparql-update"},
                              "body": b"CLEAR ALL"}),
    ("repeated query", {"method": "GET", "query": [("query", FAST), ("query", FAST)]}),
    ("not acceptable", {"method": "GET", "query": {"query": SELECT}, "headers": {"Accept": "image/png"}}),
    ("foreign FROM", {"method": "GET", "query": {"query": "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }"}}),
    ("foreign SERVICE", {"method": "GET",
                         "query": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}}),
    ("wrong media type", {"method": "POST", "headers": {"Content-Type": "text/plain"}, "body": b"query=ASK{}"}),
    ("bad utf-8", {"method": "GET", "raw": b"query=%ff%fe"}),
    ("protocol dataset", {"method": "GET", "query": {"query": "ASK { ?s ?p ?o }",
                                                     "default-graph-uri": "http://example.org/nothing"}}),
    ("service description", {"method": "GET", "headers": {"Accept": "text/turtle"}}),
]


@pytest.mark.parametrize("name,case", CASES, ids=[c[0] for c in CASES])
def test_front_and_flask_give_the_same_answer(store: Path, name: str, case: dict[str, Any]) -> None:
    front = _front(store)
    flask = front.app.test_client()
    try:
        qs = case.get("raw") or urlencode(case.get("query") or {}).encode()
        status, headers, body = asyncio.run(_call(front, case["method"], "/sparql", qs, case.get("headers"),
                                                  case.get("body", b"")))
        ref = flask.open("/sparql", method=case["method"], query_string=qs.decode("ascii"), headers=case.get("headers"),
                         data=case.get("body"))
        assert status == ref.status_code, (name, body[:300], ref.data[:300])
        assert body == ref.data, name
        ref_headers = {k.lower(): v for k, v in ref.headers.items() if k.lower() not in IGNORED}
        ours = {k: v for k, v in headers.items() if k not in IGNORED}
        assert ours == ref_headers, name
        assert int(headers["content-length"]) == len(body)
    finally:
        _close(front)


def test_time_limit_holds_on_the_awaited_path(store: Path) -> None:
    front = _front(store, sparql_timeout=2.0, sparql_workers=2)
    ep = None
    try:
        async def scenario() -> tuple[Any, Any, float, float]:
            await _call(front, "GET", "/sparql", q(FAST))          # workers up
            t0 = time.monotonic()
            slow = asyncio.ensure_future(_call(front, "GET", "/sparql", q(CROSS_JOIN)))
            await asyncio.sleep(0.3)
            t1 = time.monotonic()
            fast = await _call(front, "GET", "/sparql", q(FAST + " # meanwhile"))
            fast_took = time.monotonic() - t1
            slow_answer = await slow
            return slow_answer, fast, time.monotonic() - t0, fast_took

        slow, fast, slow_took, fast_took = asyncio.run(scenario())
        assert slow[0] == 503 and slow[1]["x-sparql-timeout"] == "2" and b"Query timeout" in slow[2]
        assert 1.8 <= slow_took < 10, slow_took
        assert fast[0] == 200 and b"true" in fast[2] and fast_took < 1.5, fast_took
        ep = front.app.extensions["lod_sparql"]
        assert ep.executor.kills == 1
        deadline = time.monotonic() + 20
        while ep.executor.alive < 2:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.05)
        again = asyncio.run(_call(front, "GET", "/sparql", q(FAST + " # after the kill")))
        assert again[0] == 200
    finally:
        _close(front)


def test_full_pool_refuses_and_a_vanished_client_costs_only_its_worker(store: Path) -> None:
    front = _front(store, sparql_timeout=5.0, sparql_workers=1, sparql_queue=0)
    try:
        async def scenario() -> tuple[Any, float]:
            await _call(front, "GET", "/sparql", q(FAST))
            slow = asyncio.ensure_future(_call(front, "GET", "/sparql", q(CROSS_JOIN)))
            await asyncio.sleep(0.3)
            t = time.monotonic()
            refused = await _call(front, "GET", "/sparql", q(FAST + " # another text: not the cached answer"))
            took = time.monotonic() - t
            slow.cancel()                      # the client hangs up: gunicorn cancels the request task
            with pytest.raises(asyncio.CancelledError):
                await slow
            return refused, took

        refused, took = asyncio.run(scenario())
        assert refused[0] == 503 and refused[1]["retry-after"] and b"busy" in refused[2]
        assert took < 1.0, took
        ep = front.app.extensions["lod_sparql"]
        deadline = time.monotonic() + 20
        while ep.executor.alive < 1:
            assert time.monotonic() < deadline, "the abandoned worker was not replaced"
            time.sleep(0.05)
        assert asyncio.run(_call(front, "GET", "/sparql", q(FAST + " # evaluated again")))[0] == 200
    finally:
        _close(front)


def test_repeated_get_queries_come_from_the_cache_volatile_ones_never(store: Path) -> None:
    """A repeatable GET query is answered again from the front's cache (same build: same answer); one
    with NOW()/RAND() or SERVICE, a POST, or any query when the setting is off, is evaluated every time.
    Proof by removal: with the worker pool closed, only cached answers can still be 200."""
    select = q(SELECT)
    now = q("SELECT (NOW() AS ?t) (RAND() AS ?r) WHERE {}")
    accept = {"Accept": "application/sparql-results+json"}
    post = urlencode({"query": SELECT}).encode()
    form = {"Content-Type": "application/x-www-form-urlencoded", **accept}
    front = _front(store)
    off = _front(store, sparql_result_cache=False)
    try:
        async def first_round(f: Front) -> list[Any]:
            return [await _call(f, "GET", "/sparql", select, accept), await _call(f, "GET", "/sparql", now, accept),
                    await _call(f, "POST", "/sparql", b"", form, post)]

        warm = asyncio.run(first_round(front))
        assert [r[0] for r in warm] == [200, 200, 200]
        assert asyncio.run(first_round(off))[0][0] == 200
        for f in (front, off):
            f.app.extensions["lod_sparql"].executor.close()     # nothing can be evaluated any more
        again = asyncio.run(_call(front, "GET", "/sparql", select, accept))
        assert again[0] == 200 and again[2] == warm[0][2]
        assert again[1]["content-type"] == warm[0][1]["content-type"]
        assert again[1]["x-sparql-rows"] == warm[0][1]["x-sparql-rows"]
        assert again[1]["access-control-allow-origin"] == "*"
        other_accept = asyncio.run(_call(front, "GET", "/sparql", select, {"Accept": "text/csv"}))
        assert other_accept[0] != 200                      # the key has the Accept header: not this entry
        assert asyncio.run(_call(front, "GET", "/sparql", now, accept))[0] != 200
        assert asyncio.run(_call(front, "POST", "/sparql", b"", form, post))[0] != 200
        assert asyncio.run(_call(off, "GET", "/sparql", select, accept))[0] != 200
    finally:
        _close(front)
        _close(off)
