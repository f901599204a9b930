"""The remote SPARQL store (lod.remote) against a real Virtuoso on loopback.

- `lod build` into Virtuoso publishes what the embedded build publishes; a rebuild after editing one
  record replaces only that record's graph (plus the provenance graph, which records every build);
- the HTTP surfaces give the same answers over both back ends: dereferencing in every format, SPARQL
  SELECT, OAI-PMH ListRecords/GetRecord (one app per back end, the same requests to both);
- a store that goes away makes the web tier answer 503 + Retry-After, and it recovers by itself;
- bad URLs, credentials and queries fail with clear errors.

Skips with a reason when no Virtuoso is reachable (LOD_TEST_VIRTUOSO, set by .ci/run).
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pyoxigraph as ox
import pytest
import rdflib
from conftest import DATA, Built, build_into, make_app
from lxml import etree
from rdflib.compare import isomorphic
from remote_support import Proxy, Virtuoso, clear, virtuoso_or_reason

from lod import config
from lod.store import EmbeddedStore, StoreError, StoreUnavailable

BASE = "http://localhost:8080/"
FIXED = "2026-11-22T09:00:00Z"        # both builds get the same clock: equal datestamps and built_at
OAI = "{http://www.openarchives.org/OAI/2.0/}"
RDF_EXTS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdf": "xml"}


@pytest.fixture(scope="module")
def vt() -> Virtuoso:
    v, reason = virtuoso_or_reason()
    if v is None:
        pytest.skip(reason)
    return v


def copy_data(dest: Path) -> Path:
    shutil.copytree(DATA, dest, ignore=shutil.ignore_patterns("sources"))
    return dest


def remote_settings(v: Virtuoso, data: Path, tmp: Path, *, root: str | None = None, base: str = BASE,
                    **extra: Any) -> config.Settings:
    root = root or v.root
    return config.load({"store": root + "sparql", "store_update": root + "sparql-auth", "store_user": v.user,
                        "store_password": v.password, "data": str(data), "base_uri": base, "offline": True,
                        "store_dumps": str(tmp / "dumps"), **extra})


def build(settings: config.Settings) -> Any:
    from lod.build import build as run  # the real entry point: an http(s) store goes to lod.remote_build

    return run(settings)


def remote_app(root: str, data: Path, tmp: Path, dumps: str = "dumps", **extra: Any) -> Any:
    from lod.web.app import create_app

    return create_app({"store": root + "sparql", "base_uri": BASE, "data": str(data),
                       "store_dumps": str(tmp / dumps), **extra})


@dataclass
class Pair:
    embedded: Built
    remote_data: Path
    report: Any
    tmp: Path


@pytest.fixture(scope="module")
def pair(vt: Virtuoso, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """The bundled records built twice with the same clock: into a directory, and into Virtuoso."""
    tmp = tmp_path_factory.mktemp("remote")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("lod.build._now", lambda: FIXED)
        (tmp / "embedded").mkdir()
        embedded = build_into(tmp / "embedded", BASE)
        clear(vt, BASE)
        data = copy_data(tmp / "remote-data")
        report = build(remote_settings(vt, data, tmp))
    yield Pair(embedded, data, report, tmp)
    clear(vt, BASE)


@pytest.fixture(scope="module")
def clients(pair: Pair, vt: Virtuoso) -> dict[str, Any]:
    return {"embedded": make_app(pair.embedded).test_client(),
            "remote": remote_app(vt.root, pair.remote_data, pair.tmp).test_client()}


@pytest.fixture(scope="module")
def oai_clients(pair: Pair, vt: Virtuoso, clients: dict[str, Any]) -> dict[str, Any]:
    """Also a remote node without the build's prepared OAI file: it renders every record from the store."""
    (pair.tmp / "no-prepared").mkdir(exist_ok=True)
    return {**clients, "remote-live": remote_app(vt.root, pair.remote_data, pair.tmp, "no-prepared").test_client()}


# ----------------------------------------------------------------------------------- build
def test_build_into_virtuoso_publishes_what_the_embedded_build_publishes(pair: Pair, vt: Virtuoso) -> None:
    from lod.remote import RemoteStore

    emb = EmbeddedStore(pair.embedded.store)
    rem = RemoteStore(vt.sparql, base_uri=BASE)
    assert pair.report.exit_code == 0
    assert pair.report.published == pair.embedded.report.published and len(pair.report.published) == 13
    assert pair.report.triples == pair.embedded.report.triples
    # every record graph and the shared graphs hold the same triples (provenance: same size; its
    # activity IRI names the build directory, which differs)
    graphs = [e.graph for e in emb.catalog.all()] + [BASE + "graph/authority", BASE + "graph/ontology"]
    for g in graphs:
        node = ox.NamedNode(g)
        want = {q.triple for q in emb.oxigraph.quads_for_pattern(None, None, None, node)}
        got = {q.triple for q in rem.oxigraph.quads_for_pattern(None, None, None, node)}
        assert got == want, g
        assert want
    prov = ox.NamedNode(BASE + "graph/provenance")
    assert len(list(rem.oxigraph.quads_for_pattern(None, None, None, prov))) == \
        len(list(emb.oxigraph.quads_for_pattern(None, None, None, prov)))
    # the catalog (OAI datestamps, sets, checksums) is the same row for row
    assert list(rem.catalog.all()) == list(emb.catalog.all())
    assert rem.catalog.sets() == emb.catalog.sets()
    assert rem.catalog.meta() == emb.catalog.meta()
    assert rem.catalog.earliest() == emb.catalog.earliest() == FIXED
    # first build into an empty store: every graph sent, nothing dropped
    sent = set(pair.report.remote.replaced)
    assert {e.graph for e in emb.catalog.all()} <= sent and not pair.report.remote.dropped
    for name in ("dataset.nt.gz", "dataset.ttl.gz", "oai.sqlite"):      # the web nodes' shared folder
        assert (pair.tmp / "dumps" / name).is_file(), name


def test_rebuild_replaces_only_the_changed_graph(vt: Virtuoso, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    base = "http://rebuild.test/"
    clear(vt, base)
    proxy = Proxy(vt.root)
    try:
        data = copy_data(tmp_path / "data")
        settings = remote_settings(vt, data, tmp_path, root=proxy.root, base=base)
        monkeypatch.setattr("lod.build._now", lambda: "2026-11-22T09:00:00Z")
        first = build(settings)
        assert len(first.remote.replaced) == 16        # 13 records + ontology, authority, provenance
        # unchanged rebuild: only the provenance graph (it records this build's time) is sent again
        monkeypatch.setattr("lod.build._now", lambda: "2026-11-22T10:00:00Z")
        again = build(settings)
        assert again.remote.replaced == [base + "graph/provenance"] and again.remote.unchanged == 15
        # edit one record: its graph and the provenance graph, nothing else; count the update requests
        path = data / "records" / "300237.yaml"
        path.write_text(path.read_text().replace("title: The Chancellor's", "title: EDITED The Chancellor's"))
        monkeypatch.setattr("lod.build._now", lambda: "2026-11-22T11:00:00Z")
        before = proxy.updates()
        edited = build(settings)
        assert sorted(edited.remote.replaced) == sorted([base + "graph/document/300237", base + "graph/provenance"])
        assert edited.remote.dropped == [] and edited.remote.unchanged == 14
        updates = proxy.updates() - before
        # one batched request for the two graphs, then catalog rows, sets, meta (successful requests;
        # the Digest challenge of a new connection answers 401 first and is not an update)
        assert edited.remote.requests == 1 and updates == edited.remote.requests + 3, proxy.counts
        from lod.remote import RemoteStore

        rem = RemoteStore(vt.sparql, base_uri=base)
        assert rem.catalog.get("300237").datestamp == "2026-11-22T11:00:00Z"
        assert rem.catalog.get("300238").datestamp == "2026-11-22T09:00:00Z"   # unchanged: stable datestamp
        titles = [r["t"].value for r in rem.query(
            f"SELECT ?t WHERE {{ <{base}id/document/300237> <http://purl.org/dc/terms/title> ?t }}")]
        assert titles and titles[0].startswith("EDITED")
        # a record file removed: its graph is dropped, its catalog row says deleted
        (data / "records" / "300238.yaml").unlink()
        monkeypatch.setattr("lod.build._now", lambda: "2026-11-22T12:00:00Z")
        gone = build(settings)
        assert gone.remote.dropped == [base + "graph/document/300238"]
        rem.refresh(force=True)
        entry = rem.catalog.get("300238")
        assert entry.deleted and entry.datestamp == "2026-11-22T12:00:00Z"
        assert not rem.oxigraph.contains_named_graph(ox.NamedNode(base + "graph/document/300238"))
    finally:
        proxy.close()
        clear(vt, base)


def test_graph_store_protocol_loading(vt: Virtuoso, tmp_path: Path) -> None:
    """store_protocol=gsp: graphs are PUT to /sparql-graph-crud-auth; the same triples arrive."""
    base = "http://gsp.test/"
    clear(vt, base)
    try:
        data = copy_data(tmp_path / "data")
        settings = remote_settings(vt, data, tmp_path, base=base, store_protocol="gsp", store_update=vt.gsp)
        report = build(settings)
        assert report.exit_code == 0 and len(report.remote.replaced) == 16
        assert report.remote.requests == 2 * 16         # a PUT and a checksum update per graph
        from lod.remote import RemoteStore

        rem = RemoteStore(vt.sparql, base_uri=base)
        n = next(iter(rem.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                                f"FILTER(STRSTARTS(STR(?g), \"{base}graph/document/\")) }}")))["n"]
        assert int(n.value) > 13 * 20
    finally:
        clear(vt, base)


# ----------------------------------------------------------------------------------- the same answers
def _things(pair: Pair) -> list[str]:
    """A document of each layout, the most cited person, a place, an organisation, a vocabulary term."""
    emb = EmbeddedStore(pair.embedded.store)
    picks = [BASE + "id/document/116814", BASE + "id/document/300237"]
    for kind in ("person", "place", "organization"):
        q = (f"SELECT ?x (COUNT(?d) AS ?n) WHERE {{ ?d ?p ?x FILTER(STRSTARTS(STR(?x), \"{BASE}id/{kind}/\")) }} "
             "GROUP BY ?x ORDER BY DESC(?n) ?x LIMIT 1")
        picks += [r["x"].value for r in emb.query(q)]
    picks += [r["t"].value for r in emb.query(
        f"SELECT ?t WHERE {{ ?t a <http://www.w3.org/2004/02/skos/core#Concept> "
        f"FILTER(STRSTARTS(STR(?t), \"{BASE}vocab/\")) }} ORDER BY ?t LIMIT 1")]
    return picks


def _path(iri: str) -> str:
    rel = iri[len(BASE):]
    return "/" + ("data/" + rel[len("id/"):] if rel.startswith("id/") else "data/" + rel)


def _graph(body: bytes, fmt: str, context: dict[str, Any] | None = None) -> rdflib.Graph:
    """Parse a response; a JSON-LD document gets the app's own context inlined (no fetch)."""
    if fmt == "json-ld" and context is not None:
        doc = json.loads(body)
        doc["@context"] = context["@context"]
        body = json.dumps(doc).encode()
    g = rdflib.Graph()
    g.parse(data=body, format=fmt)
    return g


def test_dereferencing_is_the_same_in_every_format(pair: Pair, clients: dict[str, Any]) -> None:
    things = _things(pair)
    assert len(things) >= 5
    context = json.loads(clients["embedded"].get("/context.jsonld").data)
    assert json.loads(clients["remote"].get("/context.jsonld").data) == context
    for iri in things:
        path = quote(_path(iri), safe="/:()',!$&*+;=@~-._")
        for ext in (*RDF_EXTS, "html"):
            a, b = (clients[k].get(f"{path}.{ext}") for k in ("embedded", "remote"))
            assert (a.status_code, a.content_type) == (b.status_code, b.content_type), (iri, ext)
            assert a.status_code == 200, (iri, ext, a.get_data(as_text=True)[:200])
            if ext == "html":
                assert _html_text(a.data) == _html_text(b.data), (iri, ext)
            else:
                assert isomorphic(_graph(a.data, RDF_EXTS[ext], context),
                                  _graph(b.data, RDF_EXTS[ext], context)), (iri, ext)
        # negotiated: the same representation chosen, the same Vary; /id/ redirects alike
        for accept in ("text/turtle", "application/ld+json;q=0.9, text/html;q=0.5", "*/*"):
            a, b = (clients[k].get(path, headers={"Accept": accept}) for k in ("embedded", "remote"))
            assert (a.status_code, a.content_type, a.headers.get("Vary")) == \
                (b.status_code, b.content_type, b.headers.get("Vary"))
        if iri.startswith(BASE + "id/"):
            rel = "/" + iri[len(BASE):]
            a, b = (clients[k].get(quote(rel, safe="/:()',!$&*+;=@~-._"), headers={"Accept": "text/turtle"})
                    for k in ("embedded", "remote"))
            assert (a.status_code, a.headers.get("Location")) == (b.status_code, b.headers.get("Location"))
    for k in ("embedded", "remote"):
        assert clients[k].get("/data/document/no-such-record.ttl").status_code == 404


def _html_text(body: bytes) -> str:
    """The page with list items in a canonical order: HTML lists values in the store's triple order,
    which differs between stores (the RDF formats are compared as graphs). The embedded JSON-LD copy
    is dropped here: the .jsonld document is compared as a graph."""
    from lxml import html

    root = html.fromstring(body)
    for script in root.xpath('//script[@type="application/ld+json"]'):
        script.getparent().remove(script)

    def canon(el: Any) -> str:
        kids = [canon(k) + re.sub(r"[\s;,]+", " ", k.tail or "").strip() for k in el]
        if el.tag in ("ul", "ol", "dd", "tbody"):
            kids.sort()
        attrs = " ".join(f'{k}="{v}"' for k, v in sorted(el.attrib.items()))
        text = re.sub(r"\s+", " ", el.text or "")
        return f"<{el.tag} {attrs}>{text}{''.join(kids)}</{el.tag}>"

    return canon(root)


SELECTS = [
    # documents per year (the timeline), people by documents, a document's metadata, ASK, graph counts
    """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
SELECT ?year (COUNT(DISTINCT ?doc) AS ?documents) WHERE {
  ?doc a crm:E31_Document ; crm:P94i_was_created_by/crm:P4_has_time-span/crm:P82a_begin_of_the_begin ?begin .
  BIND (YEAR(?begin) AS ?year) } GROUP BY ?year ORDER BY ?year""",
    """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
SELECT ?p (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d crm:P67_refers_to ?p . ?p a crm:E21_Person }
GROUP BY ?p ORDER BY DESC(?n) ?p""",
    """PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?p ?o WHERE { <http://localhost:8080/id/document/116814> ?p ?o FILTER(isLiteral(?o)) } ORDER BY ?p ?o""",
    """SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }""",
    """SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g""",
    """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE { GRAPH <http://localhost:8080/graph/authority> { ?x rdfs:label ?label } } ORDER BY ?label""",
    """ASK { <http://localhost:8080/id/document/116814> ?p ?o }""",
    """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
SELECT ?doc WHERE { ?doc a crm:E31_Document } ORDER BY ?doc LIMIT 5 OFFSET 2""",
]


@pytest.mark.parametrize("query", SELECTS, ids=[f"q{i}" for i in range(len(SELECTS))])
def test_sparql_answers_are_the_same(clients: dict[str, Any], query: str) -> None:
    out = {}
    for k in ("embedded", "remote"):
        r = clients[k].post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, (k, r.get_data(as_text=True)[:300])
        out[k] = json.loads(r.data)
    assert out["remote"] == out["embedded"]
    assert out["embedded"].get("boolean") is True or out["embedded"]["results"]["bindings"]


def test_sparql_errors_are_the_same(clients: dict[str, Any]) -> None:
    for query in ("SELECT * WHERE { ?s ?p }", "define input:grab-all 'yes' SELECT * WHERE { ?s ?p ?o }"):
        codes = {k: clients[k].post("/sparql", data={"query": query}).status_code for k in clients}
        assert codes == {"embedded": 400, "remote": 400}, (query, codes)


def _oai(client: Any, **args: str) -> etree._Element:
    r = client.get("/oai", query_string=args)
    assert r.status_code == 200
    return etree.fromstring(r.data)


def _records(root: etree._Element) -> list[bytes]:
    """The records (or headers) of an answer, serialised canonically, without dates of the response."""
    out = []
    for el in root.iter(f"{OAI}record", f"{OAI}header"):
        if el.tag == f"{OAI}header" and el.getparent().tag == f"{OAI}record":
            continue
        out.append(etree.tostring(el, method="c14n"))
    return out


def test_oai_pmh_answers_are_the_same(oai_clients: dict[str, Any]) -> None:
    clients = oai_clients
    harvested: dict[str, list[bytes]] = {}
    for k, c in clients.items():
        recs: list[bytes] = []
        args = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
        while True:
            root = _oai(c, **args)
            assert root.find(f"{OAI}error") is None, etree.tostring(root)[:300]
            recs += _records(root)
            tok = root.find(f".//{OAI}resumptionToken")
            if tok is None or not (tok.text or "").strip():
                break
            args = {"verb": "ListRecords", "resumptionToken": tok.text}
        harvested[k] = recs
    assert harvested["remote"] == harvested["embedded"] and len(harvested["embedded"]) == 13
    assert harvested["remote-live"] == harvested["embedded"]
    ids = [h.findtext(f"{OAI}identifier") for h in _oai(clients["embedded"], verb="ListIdentifiers",
                                                         metadataPrefix="oai_dc").iter(f"{OAI}header")]
    assert ids
    for ident in ids[:4]:
        for prefix in ("oai_dc", "edm"):
            a, b, c = (_records(_oai(clients[k], verb="GetRecord", identifier=ident, metadataPrefix=prefix))
                       for k in ("embedded", "remote", "remote-live"))
            assert a == b == c and a, (ident, prefix)
    sets = {k: _records(_oai(c, verb="ListIdentifiers", metadataPrefix="oai_dc", set="language"))
            for k, c in clients.items()}
    assert sets["remote"] == sets["embedded"] == sets["remote-live"]
    listed = {k: etree.tostring(_oai(c, verb="ListSets").find(f"{OAI}ListSets"), method="c14n")
              for k, c in clients.items()}
    assert listed["remote"] == listed["embedded"] == listed["remote-live"]
    ident = {k: _oai(c, verb="Identify").findtext(f".//{OAI}earliestDatestamp") for k, c in clients.items()}
    assert ident["remote"] == ident["embedded"] == ident["remote-live"] == FIXED


# ----------------------------------------------------------------------------------- failures
def test_store_down_gives_503_with_retry_after_and_recovers(pair: Pair, vt: Virtuoso) -> None:
    proxy = Proxy(vt.root)
    try:
        app = remote_app(proxy.root, pair.remote_data, pair.tmp)
        store = app.config["LOD_STORE"]
        store.check_every = 0.0            # look at the build stamp on every request
        c = app.test_client()
        assert c.get("/data/document/116814.ttl").status_code == 200
        proxy.cut()
        for url in ("/data/document/300237.ttl", "/data/document/300239.html",
                    "/sparql?query=" + quote("SELECT * WHERE { ?s ?p ?o } LIMIT 1"), "/oai?verb=Identify"):
            r = c.get(url, headers={"Accept": "application/sparql-results+json"} if "sparql" in url else {})
            assert r.status_code == 503, (url, r.status_code, r.get_data(as_text=True)[:200])
            assert r.headers["Retry-After"] == "5" and r.headers["Cache-Control"] == "no-store"
        proxy.restore()
        assert c.get("/data/document/300237.ttl").status_code == 200        # same app: no restart
        r = c.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"},
                  headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200 and json.loads(r.data)["boolean"] is True
        assert c.get("/oai?verb=Identify").status_code == 200
    finally:
        proxy.close()


def test_a_node_starts_while_the_store_is_down_and_recovers(pair: Pair, vt: Virtuoso) -> None:
    proxy = Proxy(vt.root)
    try:
        proxy.cut()
        app = remote_app(proxy.root, pair.remote_data, pair.tmp)     # no exception: it will come back
        c = app.test_client()
        r = c.get("/data/document/116814.ttl")
        assert r.status_code == 503 and r.headers["Retry-After"]
        proxy.restore()
        assert c.get("/data/document/116814.ttl").status_code == 200
        time.sleep(app.config["LOD_STORE"].check_every + 0.1)   # failed looks are retried after that
        assert c.get("/data/document/300237.ttl").status_code == 200
        assert app.config["LOD_STORE"].build.name == FIXED
    finally:
        proxy.close()


def test_bad_urls_credentials_and_queries(vt: Virtuoso, tmp_path: Path, pair: Pair) -> None:
    from lod.remote import RemoteStore

    with pytest.raises(StoreError, match="404"):
        RemoteStore(vt.root + "no-such-endpoint", base_uri=BASE)
    with pytest.raises(StoreError, match="SPARQL endpoint URL"):
        RemoteStore(vt.root, base_uri=BASE)                           # the server, not its endpoint
    with pytest.raises(StoreError, match="not a remote store URL"):
        RemoteStore("http:///sparql", base_uri=BASE)
    with pytest.raises(StoreError, match="store_update"):
        RemoteStore(vt.sparql, base_uri=BASE, update_url="sparql-auth")
    with pytest.raises(StoreError, match="store_protocol"):
        RemoteStore(vt.sparql, base_uri=BASE, update_url=vt.update, protocol="ftp")
    rem = RemoteStore(vt.sparql, base_uri=BASE, update_url=vt.update, user=vt.user, password="wrong")
    with pytest.raises(StoreError, match="credentials"):
        rem.writer().drop_graphs(["http://localhost:8080/graph/none"])
    with pytest.raises(StoreError, match="store_update"):
        RemoteStore(vt.sparql, base_uri=BASE).writer()
    with pytest.raises(SyntaxError):
        rem.query("SELECT * WHERE { ?s ?p }")
    with pytest.raises(SyntaxError, match="define"):
        rem.query("define input:grab-all 'yes' SELECT * WHERE { ?s ?p ?o }")
    with pytest.raises(SyntaxError):
        rem.query("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    with pytest.raises(TypeError, match="custom_functions"):
        rem.query("SELECT * WHERE { ?s ?p ?o }", custom_functions={ox.NamedNode("urn:f"): lambda x: x})
    # nothing listens there: a build says so and publishes nothing
    from lod.build import BuildError

    down = config.load({"store": "http://127.0.0.1:9/sparql", "store_update": "http://127.0.0.1:9/sparql-auth",
                        "data": str(pair.remote_data), "base_uri": BASE, "offline": True,
                        "store_dumps": str(tmp_path / "dumps")})
    with pytest.raises(BuildError, match="unreachable"):
        build(down)
    with pytest.raises(StoreUnavailable):
        RemoteStore("http://127.0.0.1:9/sparql", base_uri=BASE).refresh(force=True)


def test_query_options_behave_as_in_pyoxigraph(pair: Pair, vt: Virtuoso) -> None:
    from lod.remote import RemoteStore

    emb = EmbeddedStore(pair.embedded.store)
    rem = RemoteStore(vt.sparql, base_uri=BASE)
    doc = ox.NamedNode(BASE + "id/document/116814")
    graph = ox.NamedNode(BASE + "graph/document/116814")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p ?o", {"substitutions": {ox.Variable("s"): doc}}),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default_graph": [graph]}),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"default_graph": ox.DefaultGraph()}),
        ("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g", {"named_graphs": [graph]}),
        # FROM with the union flag off, as lod.sparql sends it (pyoxigraph's union flag would override FROM;
        # the remote store always lets FROM decide)
        (f"SELECT (COUNT(*) AS ?n) FROM <{graph.value}> WHERE {{ ?s ?p ?o }}", {"use_default_graph_as_union": False}),
        ("SELECT ?t WHERE { doc:116814 dcterms:title ?t }",
         {"prefixes": {"doc": BASE + "id/document/", "dcterms": "http://purl.org/dc/terms/"}}),
        ("SELECT ?t WHERE { <116814> <http://purl.org/dc/terms/title> ?t }", {"base_iri": BASE + "id/document/"}),
    ]
    for q, kw in cases:
        assert list(map(str, rem.query(q, **kw))) == list(map(str, emb.query(q, **kw))), (q, kw)
    triples = rem.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}")
    assert isinstance(triples, ox.QueryTriples)
    want = set(emb.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}"))
    assert set(triples) == want and want
    assert isinstance(rem.query("ASK { ?s ?p ?o }"), ox.QueryBoolean)


def test_cli_build_and_query_take_a_store_url(vt: Virtuoso, tmp_path: Path) -> None:
    """`lod build --store URL --store-update URL ...` and `lod query --store URL`, the real commands."""
    import subprocess
    import sys

    base = "http://cli.test/"
    clear(vt, base)
    try:
        data = copy_data(tmp_path / "data")
        lod = [sys.executable, "-c", "from lod.cli import main; main()"]
        env = {"LOD_STORE_PASSWORD": vt.password, "PATH": "/usr/bin:/bin"}
        out = subprocess.run([*lod, "build", "--no-progress", "--store", vt.sparql, "--store-update", vt.update,
                              "--store-user", vt.user, "--base-uri", base, "--data", str(data),
                              "--store-dumps", str(tmp_path / "dumps")],
                             capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr[-2000:]
        assert "published 13 record(s)" in out.stdout
        q = f"SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?d a <http://www.cidoc-crm.org/cidoc-crm/E31_Document> " \
            f"FILTER(STRSTARTS(STR(?d), \"{base}\")) }}"
        out = subprocess.run([*lod, "query", "--store", vt.sparql, "--base-uri", base, "--format", "tsv", q],
                             capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.splitlines()[1].startswith("13")
        # wrong password: exit 2 with the reason, nothing half-published
        out = subprocess.run([*lod, "build", "--no-progress", "--store", vt.sparql, "--store-update", vt.update,
                              "--store-user", vt.user, "--base-uri", "http://cli2.test/", "--data", str(data),
                              "--store-dumps", str(tmp_path / "dumps2")],
                             capture_output=True, text=True, env={**env, "LOD_STORE_PASSWORD": "wrong"}, timeout=300)
        assert out.returncode == 2 and "credentials" in out.stderr, out.stderr[-1000:]
        # unreachable store: exit 2, says so
        out = subprocess.run([*lod, "query", "--store", "http://127.0.0.1:9/sparql", "ASK {}"],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 2 and "unreachable" in out.stderr
    finally:
        clear(vt, base)
        clear(vt, "http://cli2.test/")


def test_writer_batches_within_the_stores_limits(vt: Virtuoso) -> None:
    """One graph larger than an INSERT DATA may hold, and more graphs than a request may carry."""
    from lod.remote import RemoteStore
    from lod.remote_catalog import MAX_OPS, OP_TRIPLES

    base = "http://batch.test/"
    clear(vt, base)
    try:
        rem = RemoteStore(vt.sparql, base_uri=base, update_url=vt.update, user=vt.user, password=vt.password)
        p = ox.NamedNode("http://batch.test/p")
        big = ox.NamedNode(base + "graph/big")
        graphs = {big.value: [ox.Quad(ox.NamedNode(f"{base}id/s{i}"), p, ox.Literal(f"v{i} \"q\" é"), big)
                              for i in range(2 * OP_TRIPLES + 500)]}
        for j in range(MAX_OPS):
            g = ox.NamedNode(f"{base}graph/small/{j}")
            graphs[g.value] = [ox.Quad(ox.NamedNode(f"{base}id/t{j}"), p, ox.Literal(str(j)), g)]
        report = rem.writer().sync(graphs)
        assert len(report.replaced) == MAX_OPS + 1 and report.requests > 1
        n = next(iter(rem.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
                                f"FILTER(STRSTARTS(STR(?g), \"{base}graph/\")) }}")))["n"]
        assert int(n.value) == 2 * OP_TRIPLES + 500 + MAX_OPS
        sums = rem.writer().graph_checksums(chunk=50)           # read back in keyset chunks
        assert set(sums) == set(graphs) and rem.writer().graph_checksums() == sums
        again = rem.writer().sync(graphs)                       # unchanged: nothing sent
        assert again.replaced == [] and again.requests == 0 and again.unchanged == MAX_OPS + 1
        del graphs[big.value]
        gone = rem.writer().sync(graphs)                        # vanished: dropped
        assert gone.dropped == [big.value] and gone.replaced == []
        assert not rem.oxigraph.contains_named_graph(big)
    finally:
        clear(vt, base)
