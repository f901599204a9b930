"""Read-only and safe by construction: every refusal has a test, and a canary proves nothing is fetched.

The canary (conftest) is a loopback HTTP server counting hits. Requests that name it in SERVICE, FROM,
FROM NAMED, LOAD, default-graph-uri, named-graph-uri, a JSON-LD @context, ... must leave it at zero;
a positive control (the canary put on the allow-list) shows the counting works.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import LiveServer
from hypothesis import given, settings
from hypothesis import strategies as st
from sparql_support import make_store

from lod.sparql.executor import Executor, Job
from lod.sparql.safety import Rejected, analyse, check
from lod.web.app import create_app

BASE = "http://localhost:8080/"
OURS = {BASE + "graph/authority", BASE + "graph/document/100000"}


def _check(q: str, allow: tuple[str, ...] = ("https://query.wikidata.org/sparql",)) -> None:
    check(analyse(q), allowlist=allow, has_graph=OURS.__contains__)


# ----------------------------------------------------------------------------------- static checks
@pytest.mark.parametrize("q,word", [
    ("INSERT DATA { <a:b> <a:c> <a:d> }", "INSERT"),
    ("insert data { <a:b> <a:c> <a:d> }", "INSERT"),
    ("DELETE WHERE { ?s ?p ?o }", "DELETE"),
    ("LOAD <http://127.0.0.1:9/data.ttl>", "LOAD"),
    ("LOAD SILENT <file:///etc/passwd> INTO GRAPH <urn:g>", "LOAD"),
    ("CLEAR ALL", "CLEAR"), ("DROP GRAPH <urn:g>", "DROP"), ("CREATE GRAPH <urn:g>", "CREATE"),
    ("ADD DEFAULT TO <urn:g>", "ADD"), ("MOVE <urn:a> TO <urn:b>", "MOVE"), ("COPY <urn:a> TO <urn:b>", "COPY"),
    ("WITH <urn:g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
    ("PREFIX ex: <http://ex/> SELECT * {} ; INSERT DATA { ex:a ex:b ex:c }", "INSERT"),
])
def test_update_refused_403(q: str, word: str) -> None:
    with pytest.raises(Rejected) as e:
        _check(q)
    assert e.value.status == 403 and e.value.kind == "update"
    assert f"read-only: {word} belongs to SPARQL Update" in e.value.message


@pytest.mark.parametrize("q", [
    'SELECT * WHERE { ?s ?p "INSERT DATA { <a> <b> <c> }" }',
    "# LOAD <http://127.0.0.1:9/> SERVICE <http://127.0.0.1:9/>\nASK {}",
    "SELECT * WHERE { ?s <http://ex/LOAD> ?o . ?s <http://ex/SERVICE> ?x }",
    "PREFIX ex: <http://ex/> SELECT ?load ?service WHERE { ?load ex:insert ?service . ?x ex:SERVICE ex:FROM }",
    "SELECT * WHERE { ?s ?p '''multi\nline SERVICE <http://127.0.0.1:9/> { } DROP'''@en }",
    "ASK { FILTER(?a<3&&?b>2) }",
])
def test_keywords_inside_tokens_are_not_keywords(q: str) -> None:
    _check(q)   # no exception


@pytest.mark.parametrize("q", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "PREFIX e: <http://127.0.0.1:9/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }",
    "BASE <http://127.0.0.1:9/> SELECT * WHERE { SERVICE <sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { OPTIONAL { { SELECT * WHERE { SERVICE <file:///etc/passwd> { ?s ?p ?o } } } } }",
    "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql/../evil> { ?s ?p ?o } }",
])
def test_service_not_on_allow_list_403(q: str) -> None:
    with pytest.raises(Rejected) as e:
        _check(q)
    assert e.value.status == 403 and "is not on this endpoint's allow-list" in e.value.message


def test_escaped_iri_is_checked_as_what_it_means() -> None:
    """Oxigraph decodes \\u escapes inside IRIs; the check must see the same IRI (no bypass)."""
    with pytest.raises(Rejected) as e:
        _check(r"SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/\u0041> { ?s ?p ?o } }")
    assert e.value.status == 403 and "<http://127.0.0.1:9/A>" in e.value.message
    _check(r"SELECT * WHERE { SERVICE <https://query.wikidata.org/\u0073parql> { ?s ?p ?o } }")   # allowed
    with pytest.raises(Rejected) as e:
        _check(r"SELECT * FROM <file:///etc/\u0070asswd> WHERE { ?s ?p ?o }")
    assert "<file:///etc/passwd>" in e.value.message


@pytest.mark.parametrize("q", ["SELECT * WHERE { SERVICE <a b> { ?s ?p ?o } }",
                               "SELECT * WHERE { SERVICE undeclared:x { ?s ?p ?o } }",
                               "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> ?s }",
                               "SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o ",
                               "SELECT * WHERE { SERVICE"])
def test_unreadable_service_clause_refused(q: str) -> None:
    with pytest.raises(Rejected) as e:
        _check(q)
    assert e.value.status == 400 and "SERVICE" in e.value.message


FRAGMENTS = st.one_of(st.sampled_from([
    "SERVICE ", "SILENT ", "FROM ", "NAMED ", "LOAD ", "INSERT ", "SELECT * ", "ASK ", "WHERE ", "PREFIX ex: ",
    "BASE ", "<http://127.0.0.1:9/>", "<rel>", "ex:a ", "?v ", "$w ", "{ ", "} ", "( ", ") ", "'", '"', "'''", "#",
    "\n", " ", "\\u0041", "_:b ", "@en ", "^^", ". ", "; ", "VALUES ", "FILTER ", "MINUS ", "OPTIONAL "]),
    st.text(max_size=3))


@settings(max_examples=400, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join))
def test_analysis_never_crashes(text: str) -> None:
    try:
        a = analyse(text)
        check(a, allowlist=(), has_graph=lambda g: False)
    except Rejected as exc:
        assert 400 <= exc.status < 500 and exc.message
    else:
        assert a.services == []   # nothing on the allow-list: an accepted query has no SERVICE


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=100), st.sampled_from([
    None, "application/x-www-form-urlencoded", "application/sparql-query", "text/plain",
    "application/sparql-query; charset=latin1", "application/x-www-form-urlencoded; charset=utf-8"]))
def test_protocol_parse_never_crashes(body: bytes, qs: bytes, ctype: str | None) -> None:
    from lod.sparql.protocol import ProtocolError, parse

    for method in ("GET", "POST"):
        try:
            parse(method, qs, ctype, body)
        except ProtocolError as exc:
            assert 400 <= exc.status < 500 and exc.message


def test_service_variable_endpoint_403() -> None:
    with pytest.raises(Rejected) as e:
        _check("SELECT * WHERE { ?svc a <urn:x> . SERVICE ?svc { ?s ?p ?o } }")
    assert e.value.status == 403 and "not a variable" in e.value.message


def test_allow_listed_service_passes_and_nested_service_is_forwarded() -> None:
    q = ("PREFIX wikibase: <http://wikiba.se/ontology#> SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> "
         "{ ?s ?p ?o . SERVICE wikibase:label { ?s ?p ?label } } }")
    _check(q)
    a = analyse(q)
    assert [s.endpoint for s in a.services] == ["https://query.wikidata.org/sparql"]
    assert "wikibase:label" in a.services[0].body and a.services[0].in_where


@pytest.mark.parametrize("q,kw", [
    ("SELECT * FROM <http://127.0.0.1:9/data.ttl> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM NAMED <http://127.0.0.1:9/g> WHERE { GRAPH ?g { ?s ?p ?o } }", "FROM NAMED"),
    ("PREFIX f: <file:///etc/> ASK FROM f:shadow { ?s ?p ?o }", "FROM"),
])
def test_from_outside_dataset_400(q: str, kw: str) -> None:
    with pytest.raises(Rejected) as e:
        _check(q)
    assert e.value.status == 400 and e.value.message.startswith(f"{kw} <") and "never fetches" in e.value.message


def test_from_our_graphs_passes() -> None:
    _check(f"SELECT * FROM <{BASE}graph/authority> FROM NAMED <{BASE}graph/document/100000> WHERE {{ ?s ?p ?o }}")


# ----------------------------------------------------------------------------------- canary, over HTTP
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    store = make_store(tmp_path_factory.mktemp("sparql-safety") / "store", BASE)
    app = create_app({"store": str(store), "base_uri": BASE, "sparql_workers": 1})
    srv = LiveServer(app)
    srv.app = app   # type: ignore[attr-defined]
    yield srv
    srv.close()
    if "lod_sparql" in app.extensions:
        app.extensions["lod_sparql"].executor.close()


def _attempts(url: str) -> list[tuple[str, dict[str, object]]]:
    """(description, requests kwargs) of every way a request could ask us to fetch ``url``."""
    q = lambda text, **extra: {"method": "GET", "params": {"query": text, **extra}}  # noqa: E731
    direct = lambda text: {"method": "POST", "data": text.encode(),  # noqa: E731
                           "headers": {"Content-Type": "application/sparql-query"}}
    return [
        ("SERVICE", q(f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")),
        ("SERVICE SILENT", q(f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}")),
        ("SERVICE file", q("SELECT * WHERE { SERVICE <file:///etc/passwd> { ?s ?p ?o } }")),
        ("FROM", q(f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}")),
        ("FROM NAMED", q(f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")),
        ("FROM file", q("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")),
        ("LOAD", direct(f"LOAD <{url}>")),
        ("LOAD via update=", {"method": "POST", "data": {"update": f"LOAD <{url}>"}}),
        ("LOAD as sparql-update", {"method": "POST", "data": f"LOAD <{url}>".encode(),
                                   "headers": {"Content-Type": "application/sparql-update"}}),
        ("default-graph-uri", q("ASK { ?s ?p ?o }", **{"default-graph-uri": url})),
        ("named-graph-uri", q("ASK { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": url})),
        ("JSON-LD @context body", {"method": "POST", "data": json.dumps({"@context": url, "@id": "urn:x"}).encode(),
                                   "headers": {"Content-Type": "application/ld+json"}}),
        ("JSON-LD as query", direct(json.dumps({"@context": url, "@id": "urn:x"}))),
    ]


def test_nothing_is_fetched(server, canary) -> None:  # noqa: ANN001
    import requests

    answers = {}
    for name, kwargs in _attempts(canary.url):
        r = requests.request(url=server.url + "sparql", timeout=30, **kwargs)
        answers[name] = r.status_code
        assert 400 <= r.status_code < 500, (name, r.status_code, r.text)
        assert r.text.strip(), name
    # DESCRIBE of a foreign IRI describes it from our data only (nothing), never by fetching it
    r = requests.get(server.url + "sparql", params={"query": f"DESCRIBE <{canary.url}>"}, timeout=30)
    assert r.status_code == 200 and r.text.strip() == ""
    time.sleep(0.2)
    assert canary.hits == 0, canary.hits_list
    assert answers["SERVICE"] == 403 and answers["FROM"] == 400 and answers["LOAD"] == 403


def test_positive_control_allow_listed_canary_is_called(tmp_path: Path, canary) -> None:  # noqa: ANN001
    """The same canary on the allow-list IS called (by our code): the zero above is meaningful."""
    store = make_store(tmp_path / "store", BASE)
    app = create_app({"store": str(store), "base_uri": BASE, "sparql_workers": 1,
                      "service_allowlist": canary.url})
    try:
        r = app.test_client().get("/sparql", query_string={
            "query": f"SELECT * WHERE {{ SERVICE SILENT <{canary.url}> {{ ?s ?p ?o }} }}"})
        assert r.status_code == 200
        assert canary.hits == 1 and canary.hits_list[0].startswith("/?query=")
    finally:
        app.extensions["lod_sparql"].executor.close()


def test_worker_sandbox_stops_pyoxigraph_service(server, canary) -> None:  # noqa: ANN001
    """Even a SERVICE that skipped every check cannot leave the worker: pyoxigraph would call it itself."""
    store_dir = str(server.app.config["LOD_STORE"].build / "oxigraph")
    ex = Executor(workers=1, queue=1)
    try:
        loud = ex.run(Job(store_dir, f"SELECT * WHERE {{ SERVICE <{canary.url}> {{ ?s ?p ?o }} }}", "json", 10),
                      time.monotonic() + 30)
        assert loud.kind == "error" and "Operation not permitted" in loud.message
        silent = ex.run(Job(store_dir, f"SELECT * WHERE {{ SERVICE SILENT <{canary.url}> {{ ?s ?p ?o }} }}",
                            "json", 10), time.monotonic() + 30)
        assert silent.kind == "ok"
        assert canary.hits == 0
    finally:
        ex.close()


def test_sandbox_can_be_disabled_to_show_it_matters(server, canary) -> None:  # noqa: ANN001
    """Control: the same worker WITHOUT the sandbox does reach the canary (pyoxigraph's own SERVICE)."""
    store_dir = str(server.app.config["LOD_STORE"].build / "oxigraph")
    ex = Executor(workers=1, queue=1, sandbox=False)
    try:
        ex.run(Job(store_dir, f"SELECT * WHERE {{ SERVICE SILENT <{canary.url}> {{ ?s ?p ?o }} }}", "json", 10),
               time.monotonic() + 30)
        assert canary.hits == 1
    finally:
        ex.close()
