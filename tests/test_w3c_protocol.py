"""The W3C SPARQL 1.1 Protocol tests, run against the live server.

Manifest: tests/fixtures/w3c/sparql11-protocol/manifest.ttl (W3C, see ATTRIBUTION.md). The server is the
real app over the bundled records built with the real pipeline, plus the manifest's test graphs
(ut:graphData data1..data3.nt; data0.rdf, named as a default graph but never given data, is an
empty graph), because FROM / default-graph-uri must name graphs of our dataset.

Query-operation tests must all pass. Update tests get the documented read-only answer (403, "read-only"):
update_* tests count as "answered read-only" (their follow-up ASK is not sent: nothing was updated);
bad_update_* tests expect a 4xx, which the read-only answer is. The tally is printed at the end of the run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from conftest import SUMMARY_LINES, LiveServer, build_into
from lxml import etree
from rdflib.collection import Collection
from sparql_support import free_port

from lod.web.app import create_app

W3C = Path(__file__).parent / "fixtures" / "w3c" / "sparql11-protocol"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = rdflib.RDFS
SRX = "{http://www.w3.org/2005/sparql-results#}"
TABULAR = {"application/sparql-results+xml", "application/sparql-results+json", "text/csv",
           "text/tab-separated-values"}
RDF_TYPES = {"application/rdf+xml", "text/turtle", "application/n-triples", "text/plain"}


def _manifest() -> list[dict[str, object]]:
    g = rdflib.Graph().parse(W3C / "manifest.ttl", format="turtle")
    manifest = next(g.subjects(rdflib.RDF.type, MF.Manifest))
    tests = []
    for entry in Collection(g, g.value(manifest, MF.entries)):
        action = g.value(entry, MF.action)
        requests_ = []
        for req in Collection(g, g.value(action, HT.requests)):
            body = g.value(req, HT.body)
            headers = {}
            hl = g.value(req, HT.headers)
            if hl is not None:
                for h in Collection(g, hl):
                    headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
            resp = g.value(req, HT.resp)
            requests_.append({
                "method": str(g.value(req, HT.methodName)),
                "path": str(g.value(req, HT.absolutePath)),
                "headers": headers,
                "body": None if body is None else str(g.value(body, CNT.chars)).encode(
                    str(g.value(body, CNT.characterEncoding) or "UTF-8")),
                "status": {str(s).rsplit("StatusCode", 1)[1] for s in g.objects(resp, MF.expectedStatus)},
                "boolean": None if g.value(resp, MF.expectedBoolean) is None
                else bool(g.value(resp, MF.expectedBoolean).toPython()),
                "format": None if g.value(resp, MF.expectedFormat) is None else str(g.value(resp, MF.expectedFormat)),
            })
        graphs = [(str(g.value(gd, RDFS.label)), W3C / str(g.value(gd, UT.graph)).rsplit("/", 1)[1])
                  for gd in g.objects(entry, UT.graphData)]
        tests.append({"id": str(entry).rsplit("#", 1)[1], "name": str(g.value(entry, MF.name)),
                      "requests": requests_, "graphs": graphs})
    return tests


TESTS = _manifest()
TALLY: dict[str, list[str]] = {"query passed": [], "update answered read-only": [], "bad update 4xx": [],
                               "failed": []}


def _is_update(test: dict[str, object]) -> bool:
    return "update" in str(test["id"])   # update_*, bad_update_*, bad_multiple_updates


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    tmp = tmp_path_factory.mktemp("w3c")
    port = free_port()
    built = build_into(tmp, base=f"http://127.0.0.1:{port}/")
    # the manifest's graph data, loaded into the published build before the server opens it
    from lod.store import Layout

    build = Layout(built.store).current()
    store = ox.Store(str(build / "oxigraph"))
    names = {label: path for t in TESTS for label, path in t["graphs"]}
    for label, path in names.items():
        store.load(path.read_bytes(), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(label))
    store.add_graph(ox.NamedNode("http://kasei.us/2009/09/sparql/data/data0.rdf"))
    store.flush()
    del store
    app = create_app({"store": str(built.store), "base_uri": built.base, "data": str(built.data)})
    srv = LiveServer(app, port=port)
    yield srv
    srv.close()
    if "lod_sparql" in app.extensions:
        app.extensions["lod_sparql"].executor.close()
    total = len(TESTS)
    q = len(TALLY["query passed"])
    queries = sum(1 for t in TESTS if not _is_update(t))
    SUMMARY_LINES.append(
        f"W3C SPARQL 1.1 Protocol: {q}/{queries} query-operation tests passed; "
        f"{len(TALLY['update answered read-only'])} update tests got the read-only answer (403); "
        f"{len(TALLY['bad update 4xx'])} bad-update tests passed (4xx); "
        f"{len(TALLY['failed'])} failed; {total} tests in the manifest")


def _send(server: LiveServer, req: dict[str, object]) -> requests.Response:
    path = str(req["path"])
    assert path.startswith("/sparql/")
    return requests.request(str(req["method"]), server.url.rstrip("/") + path, headers=req["headers"],
                            data=req["body"], timeout=60, allow_redirects=False)


def _check_response(r: requests.Response, req: dict[str, object]) -> None:
    status_class = f"{r.status_code // 100}xx"
    assert status_class in req["status"], (r.status_code, req["status"], r.text[:300])
    mime = r.headers.get("Content-Type", "").split(";")[0].strip()
    fmt = req["format"]
    if fmt == "boolean":
        if mime == "application/sparql-results+json":
            value = json.loads(r.content).get("boolean")
        else:
            assert mime == "application/sparql-results+xml", mime
            value = etree.fromstring(r.content).findtext(f"{SRX}boolean") == "true"
        assert isinstance(value, bool)
        if req["boolean"] is not None:
            assert value is req["boolean"]
    elif fmt == "tabular":
        assert mime in TABULAR, mime
    elif fmt == "RDF":
        assert mime in RDF_TYPES, mime
        rdflib.Graph().parse(data=r.content, format={"application/rdf+xml": "xml", "text/turtle": "turtle"}
                             .get(mime, "nt"))


@pytest.mark.parametrize("test", TESTS, ids=[str(t["id"]) for t in TESTS])
def test_w3c_protocol(server: LiveServer, test: dict[str, object]) -> None:
    reqs = test["requests"]
    try:
        if str(test["id"]).startswith("update_"):
            # documented read-only answer instead of the manifest's 2xx; nothing to check afterwards
            r = _send(server, reqs[0])
            assert r.status_code == 403, (r.status_code, r.text)
            assert "read-only" in r.text
            TALLY["update answered read-only"].append(str(test["id"]))
            return
        for req in reqs:
            _check_response(_send(server, req), req)
    except AssertionError:
        TALLY["failed"].append(str(test["id"]))
        raise
    TALLY["bad update 4xx" if _is_update(test) else "query passed"].append(str(test["id"]))


def test_service_description_w3c(server: LiveServer) -> None:
    """service-description-manifest.ttl: GET returns RDF, with an sd:endpoint matching the URL used."""
    url = server.url + "sparql"
    for accept, fmt in (("text/turtle", "turtle"), ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")):
        r = requests.get(url, headers={"Accept": accept}, timeout=30)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
        g = rdflib.Graph().parse(data=r.content, format=fmt)
        sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
        (svc,) = set(g.subjects(rdflib.RDF.type, sd.Service))
        assert g.value(svc, sd.endpoint) == rdflib.URIRef(url)
        assert (svc, sd.supportedLanguage, sd.SPARQL11Query) in g
        assert len(set(g.objects(svc, sd.resultFormat))) == 8
        assert (svc, sd.feature, sd.UnionDefaultGraph) in g
        ds = g.value(svc, sd.defaultDataset)
        names = {g.value(ng, sd.name) for ng in g.objects(ds, sd.namedGraph)}
        assert rdflib.URIRef(server.url + "graph/authority") in names
