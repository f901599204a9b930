"""Hostile SPARQL: SSRF in every form, and queries built to cost the server, each with its answer.

SSRF: every target in corpus.SSRF_TARGETS (file:, loopback, the redirector, private, link-local,
IPv6, scheme and allow-list tricks) through every vector in corpus.SSRF_VECTORS (SERVICE, FROM,
FROM NAMED, LOAD, the dataset parameters), through the Flask app inside :func:`no_network`: the
answer is the refusal AND not one connect() or name lookup happened -- refused before any network
activity. The loopback targets are also sent to `lod serve` (gunicorn) over real HTTP; the package
canary and the redirector count any hit. Related: tests/test_sparql_safety.py (static checks, the
worker sandbox and its control), tests/test_sparql_limits.py (timeouts while others are answered),
tests/test_sparql_federation.py (SERVICE redirects are not followed).
"""

from __future__ import annotations

import time

import pytest
import requests

from hostile.conftest import Counter, Server, count, no_network
from hostile.corpus import COST_CASES, SSRF_TARGETS, SSRF_VECTORS, Case

JSON = {"Accept": "application/sparql-results+json"}


def _fill(text: str, target: str) -> str:
    return text.replace("{t}", target).replace("{{", "{").replace("}}", "}")


def _target(case: Case, canary: Counter, redirector: Counter) -> str:
    return case.input.format(canary=canary.url, redirector=redirector.url, cport=canary.port)


def _request(vector: Case, target: str) -> tuple[str, dict]:
    """(method, kwargs for the Flask test client) asking, in this vector's way, for ``target``."""
    if isinstance(vector.input, dict):
        params = {k: _fill(v, target) for k, v in vector.input.items()}
        if "update" in params:
            return "POST", {"data": params}
        return "GET", {"query_string": params}
    return "POST", {"data": {"query": _fill(vector.input, target)}}


@pytest.fixture(scope="module")
def c(hostile_app):  # noqa: ANN001, ANN201
    return hostile_app.test_client()


@pytest.mark.parametrize("vector", SSRF_VECTORS, ids=lambda v: v.id)
@pytest.mark.parametrize("target", SSRF_TARGETS, ids=lambda t: t.id)
def test_ssrf_refused_before_any_network_activity(target: Case, vector: Case, c, hostile_canary: Counter,  # noqa: ANN001
                                                  redirector: Counter) -> None:
    url = _target(target, hostile_canary, redirector)
    method, kwargs = _request(vector, url)
    with no_network() as guard:
        r = c.open("/sparql", method=method, headers=JSON, **kwargs)
    assert r.status_code == vector.expect, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.get_data(as_text=True).strip(), "a refusal says why"
    assert guard.attempts == [], guard.attempts
    assert hostile_canary.hits == 0 and redirector.hits == 0
    count("sparql-ssrf")


LOOPBACK = [t for t in SSRF_TARGETS if "{" in t.input]


@pytest.mark.parametrize("target", LOOPBACK, ids=lambda t: t.id)
def test_ssrf_over_real_http(target: Case, hostile_gunicorn: Server, hostile_canary: Counter,
                             redirector: Counter) -> None:
    """The production server, over real HTTP: every vector to every loopback target; nothing reaches them."""
    url = _target(target, hostile_canary, redirector)
    for vector in SSRF_VECTORS:
        method, kwargs = _request(vector, url)
        if "query_string" in kwargs:
            kwargs = {"params": kwargs.pop("query_string")}
        r = requests.request(method, hostile_gunicorn.url + "sparql", headers=JSON, timeout=30, **kwargs)
        assert r.status_code == vector.expect, (vector.id, r.status_code, r.text[:300])
    time.sleep(0.1)
    assert hostile_canary.hits == 0 and redirector.hits == 0, (hostile_canary.hits_list, redirector.hits_list)
    count("sparql-ssrf")


def test_redirecting_endpoint_on_the_allow_list_is_not_followed(hostile_built, hostile_canary: Counter,  # noqa: ANN001
                                                                redirector: Counter) -> None:
    """Positive control: the redirector allow-listed IS called (once, by our code) -- its 302 to the canary is not."""
    from conftest import make_app

    app = make_app(hostile_built, sparql_workers=1, service_allowlist=redirector.url)
    before = redirector.hits
    try:
        r = app.test_client().post("/sparql", headers=JSON, data={
            "query": f"SELECT * WHERE {{ SERVICE <{redirector.url}> {{ ?s ?p ?o }} }}"})
        assert r.status_code == 502 and "302" in r.get_data(as_text=True)
        r = app.test_client().post("/sparql", headers=JSON, data={
            "query": f"SELECT * WHERE {{ SERVICE SILENT <{redirector.url}> {{ ?s ?p ?o }} }}"})
        assert r.status_code == 200
    finally:
        ep = app.extensions.get("lod_sparql")
        if ep is not None:
            ep.executor.close()
    assert redirector.hits == before + 2 and hostile_canary.hits == 0
    redirector.hits_list.clear()
    count("sparql-ssrf")


# ----------------------------------------------------------------------------------- cost
def _worker_ready(app) -> None:  # noqa: ANN001
    """Wait until the endpoint's query worker is up (it is respawned after each query killed for time):
    each case then measures itself, not the previous case's respawn on a busy machine."""
    from lod.web.sparql import endpoint

    with app.app_context():
        ex = endpoint().executor
    ex.start()
    deadline = time.monotonic() + 60
    while ex.alive < ex.size and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ex.alive == ex.size


@pytest.mark.parametrize("case", COST_CASES, ids=lambda c: c.id)
def test_costly_query(case: Case, c, hostile_app) -> None:  # noqa: ANN001
    _worker_ready(hostile_app)
    t0 = time.monotonic()
    with no_network() as guard:
        r = c.post("/sparql", data=case.input.encode("utf-8"),
                   headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9",
                            "Content-Type": "application/sparql-query"})
    took = time.monotonic() - t0
    body = r.get_data(as_text=True)
    assert r.status_code in case.expect, (r.status_code, body[:300])
    assert took < 15, took                               # the 2 s limit (+ a worker respawn), never unbounded
    assert guard.attempts == []
    assert body.strip()
    if r.status_code == 400 and case.id.startswith(("deep-", "unary-")):
        assert "accepts at most 128" in body, body[:200]
    if r.status_code == 503:
        assert "timeout" in body.lower() and r.headers.get("X-SPARQL-Timeout") == "2"
    if case.id == "limit-int64-max":
        assert r.headers["X-SPARQL-Truncated"] == "true" and r.headers["X-SPARQL-Rows"] == "100"
    if case.id == "offset-int64-max":
        assert r.headers["X-SPARQL-Rows"] == "0"
    count("sparql-cost")


def test_the_endpoint_still_answers_after_the_costly_queries(c, hostile_app) -> None:  # noqa: ANN001
    _worker_ready(hostile_app)
    t0 = time.monotonic()
    r = c.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }"}, headers=JSON)
    assert r.status_code == 200 and time.monotonic() - t0 < 10
    ep = hostile_app.extensions["lod_sparql"]
    deadline = time.monotonic() + 10
    while ep.executor.alive < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ep.executor.alive == 1


def test_endpoint_csv_is_exact_sparql_csv(c, hostile_app) -> None:  # noqa: ANN001
    """/sparql's text/csv is the SPARQL 1.1 CSV format for programs: values exactly as stored (the
    spreadsheet-safe CSV is `lod query --format csv`, see test_hostile_ingest; docs/security.md)."""
    _worker_ready(hostile_app)
    r = c.get("/sparql", headers={"Accept": "text/csv"},
              query_string={"query": 'SELECT ?v WHERE { VALUES ?v { "=1+1" } }'})
    assert r.status_code == 200 and r.get_data(as_text=True).splitlines()[1] == "=1+1"
    count("sparql-cost")
