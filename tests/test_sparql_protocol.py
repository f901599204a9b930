"""/sparql, SPARQL 1.1 Protocol query operation: methods, media types, parameters, formats, errors.

Runs the real app (create_app) over a real on-disk store laid out like a build (tests/sparql_support.py),
through Flask's test client; every malformed input has its test and a clear 4xx.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import rdflib
from lxml import etree
from sparql_support import PEOPLE, documents, make_store

from lod.web.app import create_app

BASE = "http://localhost:8080/"
Q_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
DOC_GRAPH = BASE + "graph/document/100000"
SRX = "{http://www.w3.org/2005/sparql-results#}"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_store(tmp_path_factory.mktemp("sparql-proto") / "store", BASE)


def _app(store_dir: Path, tmp: Path | None = None, **overrides: object):  # noqa: ANN202
    settings = {"store": str(store_dir), "base_uri": BASE, "sparql_workers": 1,
                "query_log": str(tmp / "query.log") if tmp else "", **overrides}
    return create_app(settings)


@pytest.fixture(scope="module")
def app(store_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    a = _app(store_dir, tmp_path_factory.mktemp("log"))
    yield a
    if "lod_sparql" in a.extensions:
        a.extensions["lod_sparql"].executor.close()


@pytest.fixture
def c(app):  # noqa: ANN001, ANN201
    return app.test_client()


def _count(resp) -> int:  # noqa: ANN001
    data = json.loads(resp.data)
    return int(data["results"]["bindings"][0]["n"]["value"])


# ----------------------------------------------------------------------------------- the three ways in
def test_get_post_form_post_direct_agree(c) -> None:  # noqa: ANN001
    r1 = c.get("/sparql", query_string={"query": Q_COUNT})
    r2 = c.post("/sparql", data={"query": Q_COUNT})
    r3 = c.post("/sparql", data=Q_COUNT, content_type="application/sparql-query")
    for r in (r1, r2, r3):
        assert r.status_code == 200, r.data
        assert r.mimetype == "application/sparql-results+json"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "Accept" in r.headers["Vary"]
    assert _count(r1) == _count(r2) == _count(r3) > 100


def test_head_has_no_body(c) -> None:  # noqa: ANN001
    r = c.head("/sparql", query_string={"query": "ASK {}"})
    assert r.status_code == 200 and r.data == b""


def test_trailing_slash_path_works(c) -> None:  # noqa: ANN001
    assert c.get("/sparql/", query_string={"query": "ASK {}"}).status_code == 200


def test_options_preflight(c) -> None:  # noqa: ANN001
    r = c.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]


# ----------------------------------------------------------------------------------- malformed input
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_405(c, method: str) -> None:  # noqa: ANN001
    r = c.open("/sparql", method=method, query_string={"query": "ASK {}"})
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]
    assert b"use GET or POST" in r.data


def test_repeated_query_parameter_400(c) -> None:  # noqa: ANN001
    r = c.get("/sparql?query=ASK%20%7B%7D&query=SELECT%20*%20%7B%7D")
    assert r.status_code == 400 and b"query parameter was given 2 times" in r.data
    r = c.post("/sparql?query=ASK%20%7B%7D", data={"query": "ASK {}"})
    assert r.status_code == 400 and b"2 times" in r.data


def test_query_in_url_and_direct_body_400(c) -> None:  # noqa: ANN001
    r = c.post("/sparql?query=ASK%20%7B%7D", data="ASK {}", content_type="application/sparql-query")
    assert r.status_code == 400 and b"do not also send a query parameter" in r.data


@pytest.mark.parametrize("ctype", ["text/plain", "application/json", "multipart/form-data; boundary=x",
                                   "application/sparql-results+json"])
def test_wrong_media_type_400(c, ctype: str) -> None:  # noqa: ANN001
    r = c.post("/sparql", data="ASK {}", headers={"Content-Type": ctype})
    assert r.status_code == 400
    assert b"unsupported Content-Type" in r.data


def test_missing_media_type_400(c) -> None:  # noqa: ANN001
    r = c.post("/sparql", data=b"query=ASK%20%7B%7D")
    assert r.status_code == 400 and b"a POST needs a Content-Type" in r.data


def test_non_utf8_charset_and_bytes_400(c) -> None:  # noqa: ANN001
    r = c.post("/sparql", data="ASK {}".encode("utf-16"),
               headers={"Content-Type": "application/sparql-query; charset=UTF-16"})
    assert r.status_code == 400 and b"charset=UTF-16 is not supported" in r.data
    r = c.post("/sparql", data=b"ASK { ?s ?p \"\xff\xfe\" }", content_type="application/sparql-query")
    assert r.status_code == 400 and b"not valid UTF-8" in r.data
    r = c.get("/sparql?query=ASK%20%7B%20%22%FF%22%20%7D")
    assert r.status_code == 400 and b"not valid UTF-8" in r.data
    r = c.post("/sparql", data=b"query=ASK%20%7B%7D%FF", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 400 and b"not valid UTF-8" in r.data


def test_empty_or_missing_query_400(c) -> None:  # noqa: ANN001
    assert c.get("/sparql?query=").status_code == 400
    assert c.post("/sparql", data={"format": "json"}).status_code == 400
    r = c.post("/sparql", data=b"", content_type="application/sparql-query")
    assert r.status_code == 400 and b"missing query" in r.data
    r = c.get("/sparql", query_string={"default-graph-uri": DOC_GRAPH})
    assert r.status_code == 400 and b"missing query" in r.data


def test_syntax_error_400_with_parser_message(c) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert r.data.startswith(b"SPARQL syntax error: error at 1:")
    r = c.get("/sparql", query_string={"query": 'ASK { ?s ?p "unterminated }'})
    assert r.status_code == 400 and b"unterminated string at line 1, column 13" in r.data
    r = c.get("/sparql", query_string={"query": "this is not sparql"})
    assert r.status_code == 400 and b"SPARQL syntax error" in r.data


@pytest.mark.parametrize("fmt", ["png", "html", "application/pdf", "json-ld"])
def test_bad_format_parameter_400(c, fmt: str) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": "ASK {}", "format": fmt})
    assert r.status_code == 400 and b"is not offered for SELECT/ASK results" in r.data


def test_format_not_offered_for_the_query_form_400(c) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }", "format": "csv"})
    assert r.status_code == 400 and b"CONSTRUCT/DESCRIBE" in r.data
    r = c.get("/sparql", query_string={"query": "SELECT * {}", "format": "turtle"})
    assert r.status_code == 400


def test_repeated_format_400(c) -> None:  # noqa: ANN001
    r = c.get("/sparql?query=ASK%20%7B%7D&format=json&format=xml")
    assert r.status_code == 400 and b"format parameter was given more than once" in r.data


@pytest.mark.parametrize("iri", ["not an iri", "relative/path", "http://exa mple.org/", "<http://x>"])
def test_bad_graph_iris_400(c, iri: str) -> None:  # noqa: ANN001
    for param in ("default-graph-uri", "named-graph-uri"):
        r = c.get("/sparql", query_string={"query": "ASK {}", param: iri})
        assert r.status_code == 400, (param, iri)
        assert f"{param}=".encode() in r.data and b"not an absolute IRI" in r.data


def test_graph_outside_dataset_400(c) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": "http://example.org/elsewhere"})
    assert r.status_code == 400 and b"is not a graph of this dataset" in r.data


def test_unacceptable_accept_406(c) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "image/png"})
    assert r.status_code == 406 and b"application/sparql-results+json" in r.data


# ----------------------------------------------------------------------------------- formats
SELECT_TITLES = "PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?d ?t WHERE { ?d dcterms:title ?t } ORDER BY ?d"


@pytest.mark.parametrize("accept,mime", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("application/xml", "application/sparql-results+xml"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("*/*", "application/sparql-results+json"),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/sparql-results+xml"),
])
def test_select_formats_by_accept(c, accept: str, mime: str) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": SELECT_TITLES}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == mime
    assert _rows(r) == 12
    assert r.headers["X-SPARQL-Rows"] == "12"


def _rows(r) -> int:  # noqa: ANN001
    if r.mimetype == "application/sparql-results+json":
        return len(json.loads(r.data)["results"]["bindings"])
    if r.mimetype == "application/sparql-results+xml":
        return len(etree.fromstring(r.data).findall(f"{SRX}results/{SRX}result"))
    if r.mimetype == "text/csv":
        return len(list(csv.reader(io.StringIO(r.data.decode())))) - 1
    return r.data.decode().count("\n") - 1


@pytest.mark.parametrize("fmt,mime", [("json", "application/sparql-results+json"),
                                      ("xml", "application/sparql-results+xml"), ("csv", "text/csv"),
                                      ("tsv", "text/tab-separated-values"),
                                      ("application/sparql-results+json", "application/sparql-results+json"),
                                      ("application/sparql-results json", "application/sparql-results+json")])
def test_format_parameter_overrides_accept(c, fmt: str, mime: str) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": SELECT_TITLES, "format": fmt}, headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.mimetype == mime and _rows(r) == 12


@pytest.mark.parametrize("accept,mime,rdflib_fmt", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("*/*", "text/turtle", "turtle"),
])
def test_construct_formats(c, accept: str, mime: str, rdflib_fmt: str) -> None:  # noqa: ANN001
    q = ("PREFIX dcterms: <http://purl.org/dc/terms/> CONSTRUCT { ?d dcterms:title ?t } "
         "WHERE { ?d dcterms:title ?t }")
    r = c.get("/sparql", query_string={"query": q}, headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == mime
    g = rdflib.Graph().parse(data=r.data, format=rdflib_fmt)
    assert len(g) == 12
    assert (rdflib.URIRef(BASE + "id/document/100000"), rdflib.URIRef("http://purl.org/dc/terms/title"),
            rdflib.Literal("Conversation 0 about the Party")) in g


def test_describe_returns_rdf(c) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": f"DESCRIBE <{BASE}id/document/100003>"},
              headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    g = rdflib.Graph().parse(data=r.data, format="nt")
    assert len(g) >= 5


def test_ask_json_and_xml(c) -> None:  # noqa: ANN001
    q = f"ASK {{ <{BASE}id/document/100000> ?p ?o }}"
    assert json.loads(c.get("/sparql", query_string={"query": q}).data)["boolean"] is True
    r = c.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+xml"})
    assert etree.fromstring(r.data).findtext(f"{SRX}boolean") == "true"


# ----------------------------------------------------------------------------------- dataset
def test_default_graph_is_union_of_all_graphs(c) -> None:  # noqa: ANN001
    q = ("PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/> PREFIX owl: <http://www.w3.org/2002/07/owl#> "
         "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a crm:E31_Document . ?d crm:P67_refers_to ?p . "
         "?p owl:sameAs ?wd }")   # record graphs joined with the authority graph
    with_qid = {pid for pid, _, qid, _ in PEOPLE if qid}
    expected = sum(1 for d in documents(12) if with_qid & set(d["refs"]))
    assert 0 < expected == _count(c.get("/sparql", query_string={"query": q}))


def test_default_graph_uri_and_from_restrict(c) -> None:  # noqa: ANN001
    r = c.get("/sparql", query_string={"query": Q_COUNT, "default-graph-uri": DOC_GRAPH})
    in_graph = _count(r)
    assert 8 <= in_graph <= 20
    r = c.get("/sparql", query_string={"query": f"SELECT (COUNT(*) AS ?n) FROM <{DOC_GRAPH}> WHERE {{ ?s ?p ?o }}"})
    assert _count(r) == in_graph
    # the protocol's dataset wins over the query's FROM (SPARQL 1.1 Protocol 2.1.4)
    other = BASE + "graph/authority"
    r = c.get("/sparql", query_string={"query": f"SELECT (COUNT(*) AS ?n) FROM <{DOC_GRAPH}> {{ ?s ?p ?o }}",
                                       "default-graph-uri": other})
    assert _count(r) != in_graph


def test_named_graph_uri(c) -> None:  # noqa: ANN001
    q = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert _count(c.get("/sparql", query_string={"query": q})) == 13
    assert _count(c.get("/sparql", query_string={"query": q, "named-graph-uri": DOC_GRAPH})) == 1


# ----------------------------------------------------------------------------------- limits
def test_body_limit_413(store_dir: Path, tmp_path: Path) -> None:
    a = _app(store_dir, tmp_path, max_body=2000)
    c = a.test_client()
    big = "ASK { " + "# padding\n" * 400 + "}"
    r = c.post("/sparql", data=big, content_type="application/sparql-query")
    assert r.status_code == 413 and b"larger than this endpoint's limit of 2000 bytes" in r.data
    r = c.post("/sparql", data={"query": big})
    assert r.status_code == 413
    r = c.get("/sparql", query_string={"query": big})
    assert r.status_code == 413 and b"longer than this endpoint's limit" in r.data
    assert c.post("/sparql", data="ASK {}", content_type="application/sparql-query").status_code == 200


def test_row_cap_truncates_with_signal(store_dir: Path, tmp_path: Path) -> None:
    a = _app(store_dir, tmp_path, sparql_max_rows=5)
    c = a.test_client()
    try:
        r = c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
        assert r.status_code == 200
        assert r.headers["X-SPARQL-Truncated"] == "true" and r.headers["X-SPARQL-Max-Rows"] == "5"
        data = json.loads(r.data)
        assert len(data["results"]["bindings"]) == 5
        assert data["head"]["link"] == [BASE + "sparql"]
        r = c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                  headers={"Accept": "application/sparql-results+xml"})
        root = etree.fromstring(r.data)
        assert len(root.findall(f"{SRX}results/{SRX}result")) == 5
        assert root.find(f"{SRX}head/{SRX}link").get("href") == BASE + "sparql"
        r = c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }", "format": "csv"})
        assert _rows(r) == 5 and r.headers["X-SPARQL-Truncated"] == "true"
        r = c.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"})
        assert r.headers["X-SPARQL-Truncated"] == "true"
        assert r.data.startswith(b"# Truncated")
        assert len(rdflib.Graph().parse(data=r.data, format="turtle")) == 5
        # exactly at the cap: not truncated
        r = c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 5"})
        assert "X-SPARQL-Truncated" not in r.headers and len(json.loads(r.data)["results"]["bindings"]) == 5
    finally:
        a.extensions["lod_sparql"].executor.close()


# ----------------------------------------------------------------------------------- log
def test_query_log_has_no_personal_data(app, c) -> None:  # noqa: ANN001
    secret = "Zhou Enlai secret-marker"
    c.get("/sparql", query_string={"query": f'ASK {{ ?s ?p "{secret}" }}'},
          headers={"User-Agent": "AgentSmith/1.0"}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    c.get("/sparql", query_string={"query": "SELECT * {"})
    path = Path(app.config["LOD_SETTINGS"].query_log)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines, "query log is empty"
    text = path.read_text()
    for leak in (secret, "AgentSmith", "203.0.113.7", "?s ?p", "SELECT * {"):
        assert leak not in text
    ok = [x for x in lines if x["form"] == "ASK" and x["status"] == 200][-1]
    assert set(ok) == {"time", "ms", "status", "outcome", "form", "format", "rows", "bytes", "truncated", "services"}
    assert ok["outcome"] == "ok" and ok["rows"] == 1 and ok["ms"] >= 0
    assert lines[-1]["status"] == 400 and lines[-1]["outcome"] == "syntax"


class _StoreWithoutBuild:
    """A store object like lod.remote.RemoteStore: query() and graph lookups, no local build directory."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.oxigraph = inner.oxigraph  # type: ignore[attr-defined]
        self.catalog = inner.catalog  # type: ignore[attr-defined]

    def query(self, sparql: str, **kwargs: object) -> object:
        return self._inner.query(sparql, **kwargs)  # type: ignore[attr-defined]

    def refresh(self, force: bool = False) -> bool:
        return False

    def sparql_executor(self, settings: object):  # noqa: ANN201 - the hook lod.remote.RemoteStore offers
        from lod.remote_sparql import RemoteExecutor

        class _Timeless:   # RemoteExecutor passes the store a timeout; the embedded store takes none
            def __init__(self, inner: object) -> None:
                self.inner = inner

            def query(self, sparql: str, timeout: float = 0, **kw: object) -> object:
                return self.inner.query(sparql, **kw)  # type: ignore[attr-defined]

        return RemoteExecutor(_Timeless(self._inner))


def test_store_without_local_build_is_answered_by_its_executor(store_dir: Path) -> None:
    from lod.store import EmbeddedStore

    a = create_app({"store": str(store_dir), "base_uri": BASE}, store=_StoreWithoutBuild(EmbeddedStore(store_dir)))
    c = a.test_client()
    assert _count(c.get("/sparql", query_string={"query": Q_COUNT})) > 100
    r = c.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400 and b"SPARQL syntax error" in r.data
    r = c.get("/sparql", query_string={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"})
    assert r.status_code == 403
    assert type(a.extensions["lod_sparql"].executor).__name__ == "RemoteExecutor"
