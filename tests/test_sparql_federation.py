"""Federation both ways, with real servers on loopback.

Out: SERVICE to an allow-listed second SPARQL endpoint (the Oxigraph server, ``oxigraph serve-read-only``)
holding Wikidata-shaped data (labels, P569 birth dates of our people); the join with our documents
gives the right rows. In: SPARQLWrapper, a Wikidata-style GET with Accept: application/sparql-results+xml,
rdflib's SERVICE from another process, and Comunica joining our endpoint with the second one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from conftest import LiveServer, build_into
from lxml import etree
from sparql_support import OxigraphServer, free_port

from lod.sparql.examples import examples
from lod.store import EmbeddedStore
from lod.web.app import create_app

JS = Path(__file__).parent / "js"
WDT = "http://www.wikidata.org/prop/direct/"
WD = "http://www.wikidata.org/entity/"
XSD = "http://www.w3.org/2001/XMLSchema#"
# Real birth dates (Wikidata P569) of people the bundled records link to, plus decoys we never mention.
BIRTHS = {"Q5816": "1893-12-26", "Q9061": "1818-05-05", "Q16977": "1904-08-22", "Q35340": "1894-04-15",
          "Q1": "1900-01-01", "Q42": "1952-03-11"}
LABELS = {"Q5816": "Mao Zedong", "Q9061": "Karl Marx", "Q16977": "Deng Xiaoping", "Q35340": "Nikita Khrushchev",
          "Q1": "universe", "Q42": "Douglas Adams"}
PREFIXES = """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


def _wikidata_nquads() -> bytes:
    quads = []
    for q, d in BIRTHS.items():
        e = ox.NamedNode(WD + q)
        quads.append(ox.Quad(e, ox.NamedNode(WDT + "P569"), ox.Literal(d + "T00:00:00Z",
                                                                       datatype=ox.NamedNode(XSD + "dateTime"))))
        quads.append(ox.Quad(e, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
                             ox.Literal(LABELS[q], language="en")))
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)


class Recorder:
    """A loopback proxy in front of the peer that records each query and its User-Agent."""

    def __init__(self, target: str) -> None:
        self.seen: list[tuple[str, str]] = []
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                from urllib.parse import parse_qs, urlsplit

                query = parse_qs(urlsplit(self.path).query).get("query", [""])[0]
                rec.seen.append((query, self.headers.get("User-Agent", "")))
                r = requests.get(target, params={"query": query}, headers={"Accept": self.headers["Accept"]},
                                 timeout=30)
                self.send_response(r.status_code)
                self.send_header("Content-Type", r.headers.get("Content-Type", "text/plain"))
                self.end_headers()
                self.wfile.write(r.content)

            def log_message(self, *a: object) -> None:
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_port}/sparql"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.srv.shutdown()


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    if shutil.which("oxigraph") is None:
        pytest.skip("the Oxigraph server (PyPI oxigraph) is not installed")
    srv = OxigraphServer(tmp_path_factory.mktemp("peer"), _wikidata_nquads())
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory, peer: OxigraphServer):  # noqa: ANN201
    """The bundled records, built for real and served with the recorder, the peer and two dead ends allowed."""
    tmp = tmp_path_factory.mktemp("fed")
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    built = build_into(tmp, base=base)
    rec = Recorder(peer.url)
    dead = f"http://127.0.0.1:{free_port()}/sparql"
    slow = _SlowServer()
    app = create_app({"store": str(built.store), "base_uri": base, "data": str(built.data), "sparql_workers": 2,
                      "service_allowlist": ",".join([peer.url, rec.url, dead, slow.url]),
                      "service_timeout": 1.0, "contact": "archive@example.org"})
    srv = LiveServer(app, port=port)
    srv.built, srv.app, srv.rec, srv.dead, srv.slow = built, app, rec, dead, slow  # type: ignore[attr-defined]
    yield srv
    srv.close()
    rec.close()
    slow.close()
    if "lod_sparql" in app.extensions:
        app.extensions["lod_sparql"].executor.close()


class _SlowServer:
    """An allow-listed endpoint that never answers in time (and a redirect to elsewhere on /redirect)."""

    def __init__(self) -> None:
        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/redirect"):
                    self.send_response(302)
                    self.send_header("Location", H.redirect_to)
                    self.end_headers()
                    return
                time.sleep(5)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a: object) -> None:
                pass

        H.redirect_to = "http://127.0.0.1:9/"
        self.handler = H
        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_port}/sparql"
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.srv.shutdown()


def _expected(store_dir: Path) -> Counter[tuple[str, str]]:
    """(person, birth) -> documents, computed from our store and the BIRTHS table, without SERVICE."""
    st = EmbeddedStore(store_dir)
    rows = st.query(PREFIXES + "SELECT DISTINCT ?doc ?person ?wd WHERE { ?doc crm:P67_refers_to ?person . "
                               "?person a crm:E21_Person ; owl:sameAs ?wd }")
    out: Counter[tuple[str, str]] = Counter()
    for r in rows:
        qid = r["wd"].value.rsplit("/", 1)[1]
        if qid in BIRTHS:
            out[(r["person"].value, BIRTHS[qid] + "T00:00:00Z")] += 1
    return out


FEDERATED = PREFIXES + """SELECT ?person ?birth (COUNT(DISTINCT ?doc) AS ?documents) WHERE {
  ?doc crm:P67_refers_to ?person .
  ?person a crm:E21_Person ; owl:sameAs ?wd .
  SERVICE <%s> { ?wd wdt:P569 ?birth }
} GROUP BY ?person ?birth ORDER BY ?birth"""


def _bindings(r: requests.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


# ----------------------------------------------------------------------------------- out
def test_service_join_with_birth_dates_gives_the_right_rows(fed, peer) -> None:  # noqa: ANN001
    expected = _expected(fed.built.store)
    assert len(expected) >= 2, "the bundled records should link at least two people to Wikidata"
    r = requests.get(fed.url + "sparql", params={"query": FEDERATED % peer.url}, timeout=30)
    got = Counter({(b["person"], b["birth"]): int(b["documents"]) for b in _bindings(r)})
    assert got == expected
    assert not any(b.endswith("1900-01-01T00:00:00Z") or b.endswith("1952-03-11T00:00:00Z") for _, b in got)


def test_bind_join_sends_values_and_a_polite_user_agent(fed) -> None:  # noqa: ANN001
    fed.rec.seen.clear()
    r = requests.get(fed.url + "sparql", params={"query": FEDERATED % fed.rec.url}, timeout=30)
    assert Counter({(b["person"], b["birth"]): int(b["documents"]) for b in _bindings(r)}) == \
        _expected(fed.built.store)
    (sent, ua), = fed.rec.seen
    assert "VALUES (?wd)" in sent and "<http://www.wikidata.org/entity/Q5816>" in sent
    assert "Q42" not in sent and "crm:P67_refers_to" not in sent   # only the SERVICE pattern travels
    assert ua.startswith("lod-sparql/") and fed.url in ua and "archive@example.org" in ua
    assert r.headers.get("X-SPARQL-Truncated") is None


def test_page_example_federated_query_runs(fed, peer) -> None:  # noqa: ANN001
    settings = fed.app.config["LOD_SETTINGS"]
    (_, _, q), = [e for e in examples(fed.app.config["LOD_STORE"], settings) if e[0] == "wikidata-births"]
    assert f"SERVICE <{peer.url}>" in q   # the first allow-listed endpoint
    rows = _bindings(requests.get(fed.url + "sparql", params={"query": q}, timeout=30))
    assert {r["person"] for r in rows} == {p for p, _ in _expected(fed.built.store)}


def test_service_silent_to_a_dead_endpoint_is_one_empty_solution(fed) -> None:  # noqa: ANN001
    q = f"SELECT * WHERE {{ BIND(1 AS ?x) SERVICE SILENT <{fed.dead}> {{ ?s ?p ?o }} }}"
    assert _bindings(requests.get(fed.url + "sparql", params={"query": q}, timeout=30)) == [{"x": "1"}]
    r = requests.get(fed.url + "sparql", params={"query": q.replace("SILENT ", "")}, timeout=30)
    assert r.status_code == 502 and r.text.startswith(f"SERVICE <{fed.dead}> could not be reached")


def test_service_timeout_is_enforced(fed) -> None:  # noqa: ANN001
    t0 = time.monotonic()
    r = requests.get(fed.url + "sparql", params={"query": f"SELECT * {{ SERVICE <{fed.slow.url}> {{ ?s ?p ?o }} }}"},
                     timeout=30)
    took = time.monotonic() - t0
    assert r.status_code == 502 and "could not be reached" in r.text and "Timeout" in r.text
    assert took < 3.0


def test_service_redirect_is_not_followed(fed, canary) -> None:  # noqa: ANN001
    fed.slow.handler.redirect_to = canary.url
    url = fed.slow.url.replace("/sparql", "/redirect")
    app = fed.app
    settings = app.config["LOD_SETTINGS"]
    settings.values["service_allowlist"] = settings.service_allowlist + [url]
    try:
        r = requests.get(fed.url + "sparql", params={"query": f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"},
                         timeout=30)
        assert r.status_code == 502 and "answered HTTP 302" in r.text
        assert canary.hits == 0
    finally:
        settings.values["service_allowlist"] = settings.service_allowlist[:-1]


def test_service_rows_are_capped_and_flagged(fed, peer, tmp_path: Path) -> None:  # noqa: ANN001
    app = create_app({"store": str(fed.built.store), "base_uri": fed.built.base, "sparql_max_rows": 2,
                      "sparql_workers": 1, "service_allowlist": peer.url})
    try:
        r = app.test_client().get("/sparql", query_string={
            "query": PREFIXES + f"SELECT * WHERE {{ SERVICE <{peer.url}> {{ ?wd wdt:P569 ?birth }} }}"})
        assert r.status_code == 200 and r.headers["X-SPARQL-Truncated"] == "true"
        assert len(json.loads(r.data)["results"]["bindings"]) == 2
    finally:
        app.extensions["lod_sparql"].executor.close()


# ----------------------------------------------------------------------------------- in
def test_sparqlwrapper(live) -> None:  # noqa: ANN001
    from SPARQLWrapper import JSON, XML, SPARQLWrapper

    sw = SPARQLWrapper(live.url + "sparql")
    sw.setQuery(PREFIXES + "SELECT ?d ?t WHERE { ?d a crm:E31_Document ; dcterms:title ?t } ORDER BY ?d")
    sw.setReturnFormat(JSON)
    rows = sw.query().convert()["results"]["bindings"]
    assert len(rows) == len(live.built.report.published)
    sw.setReturnFormat(XML)
    doc = sw.query().convert()
    assert len(doc.getElementsByTagName("result")) == len(rows)
    sw.setQuery(PREFIXES + "CONSTRUCT { ?d dcterms:title ?t } WHERE { ?d dcterms:title ?t }")
    g = sw.queryAndConvert()
    assert len(g) >= len(rows)
    sw.setQuery("ASK { ?s ?p ?o }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True
    sw.setMethod("POST")
    sw.setQuery("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert int(sw.query().convert()["results"]["bindings"][0]["n"]["value"]) > 1000


def test_wikidata_style_get_with_xml_accept(live) -> None:  # noqa: ANN001
    """How Wikidata's query service calls a federated endpoint: GET, Accept: application/sparql-results+xml."""
    q = PREFIXES + "SELECT ?d ?t WHERE { ?d a crm:E31_Document ; dcterms:title ?t } LIMIT 3"
    r = requests.get(live.url + "sparql", params={"query": q},
                     headers={"Accept": "application/sparql-results+xml", "User-Agent": "Wikidata Query Service"},
                     timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/sparql-results+xml")
    root = etree.fromstring(r.content)
    ns = {"s": "http://www.w3.org/2005/sparql-results#"}
    assert [v.get("name") for v in root.findall("s:head/s:variable", ns)] == ["d", "t"]
    assert len(root.findall("s:results/s:result", ns)) == 3


RDFLIB_CLIENT = textwrap.dedent("""
    import json, sys
    import rdflib
    g = rdflib.Graph()
    g.add((rdflib.URIRef("urn:me"), rdflib.URIRef("urn:likes"), rdflib.Literal("Mao Zedong")))
    q = '''
    PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
    PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    SELECT ?name ?doc WHERE {
      <urn:me> <urn:likes> ?name .
      SERVICE <%s> {
        ?person rdfs:label ?name .
        ?doc crm:P67_refers_to ?person .
      }
    }'''
    rows = sorted((str(r.name), str(r.doc)) for r in g.query(q % sys.argv[1]))
    print(json.dumps(rows))
""")


def test_rdflib_service_from_another_process(live) -> None:  # noqa: ANN001
    out = subprocess.run([sys.executable, "-c", RDFLIB_CLIENT, live.url + "sparql"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    st = EmbeddedStore(live.built.store)
    expected = sorted({("Mao Zedong", r["doc"].value) for r in st.query(
        PREFIXES + "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?doc WHERE { "
                   "?person rdfs:label 'Mao Zedong' . ?doc crm:P67_refers_to ?person }")})
    assert expected and sorted(set(map(tuple, rows))) == expected


COMUNICA = JS / "node_modules" / "@comunica" / "query-sparql"


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.skipif(not COMUNICA.is_dir(), reason="tests/js/node_modules missing: run `npm ci` in tests/js")
def test_comunica_joins_our_endpoint_with_a_second_one(fed, peer) -> None:  # noqa: ANN001
    q = PREFIXES + """SELECT ?person ?birth WHERE {
      ?doc crm:P67_refers_to ?person . ?person a crm:E21_Person ; owl:sameAs ?wd .
      ?wd wdt:P569 ?birth .
    }"""
    out = subprocess.run(["node", str(JS / "federate.mjs"), q, "sparql@" + fed.url + "sparql", "sparql@" + peer.url],
                         capture_output=True, text=True, timeout=300, cwd=JS)
    assert out.returncode == 0, out.stderr[-2000:]
    got = {(b["person"], b["birth"]) for b in json.loads(out.stdout)}
    assert got == set(_expected(fed.built.store))
