"""Dataset level over the real build: VoID, DCAT, dumps, sitemap, robots.txt, context, browse/search."""

from __future__ import annotations

import gzip
import re
from xml.etree import ElementTree

import pyoxigraph as ox
import pytest
import rdflib
from conftest import BASE

VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
DATASET = rdflib.URIRef(f"{BASE}id/dataset")


@pytest.fixture(scope="module")
def store(built):  # noqa: ANN001, ANN201
    from lod.store import EmbeddedStore
    return EmbeddedStore(built.store)


def void_graph(client) -> rdflib.Graph:  # noqa: ANN001
    r = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle" and r.headers["Vary"] == "Accept"
    return rdflib.Graph().parse(data=r.data, format="turtle")


def test_void_counts_endpoint_dumps_vocabularies(client, store) -> None:  # noqa: ANN001
    g = void_graph(client)
    assert (DATASET, rdflib.RDF.type, VOID.Dataset) in g
    n_quads = len(store.oxigraph)
    assert int(g.value(DATASET, VOID.triples)) == n_quads
    assert int(g.value(DATASET, VOID.entities)) > 50
    assert int(g.value(DATASET, VOID.classes)) >= 5
    assert (DATASET, VOID.sparqlEndpoint, rdflib.URIRef(f"{BASE}sparql")) in g
    dumps = set(g.objects(DATASET, VOID.dataDump))
    assert dumps == {rdflib.URIRef(f"{BASE}dumps/dataset.nt.gz"), rdflib.URIRef(f"{BASE}dumps/dataset.ttl.gz")}
    assert rdflib.URIRef("http://www.cidoc-crm.org/cidoc-crm/") in set(g.objects(DATASET, VOID.vocabulary))
    parts = {str(g.value(p, VOID["class"])): int(g.value(p, VOID.entities)) for p in g.objects(DATASET, VOID.classPartition)}
    documents = {q.subject for q in store.oxigraph.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ox.NamedNode("http://www.cidoc-crm.org/cidoc-crm/E31_Document"), None)}
    assert parts["http://www.cidoc-crm.org/cidoc-crm/E31_Document"] == len(documents)


def test_void_linksets_to_wikidata_with_counts(client, store) -> None:  # noqa: ANN001
    g = void_graph(client)
    linksets = [s for s in g.objects(DATASET, VOID.subset) if (s, rdflib.RDF.type, VOID.Linkset) in g]
    assert linksets
    total = sum(int(g.value(ls, VOID.triples)) for ls in linksets)
    for ls in linksets:
        assert (ls, VOID.objectsTarget, rdflib.URIRef("http://www.wikidata.org/")) in g
        assert (ls, VOID.linkPredicate, rdflib.OWL.sameAs) in g
    same = {(q.subject, q.object) for q in store.oxigraph.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), None, None)
        if q.object.value.startswith("http://www.wikidata.org/entity/") and q.subject.value.startswith(BASE + "id/")}
    assert total == len({s for s, _ in same})


def test_dcat_catalog_with_distributions_and_services(client) -> None:  # noqa: ANN001
    r = client.get("/catalog", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    g = void_graph(client)
    catalog = rdflib.URIRef(f"{BASE}catalog")
    assert (catalog, rdflib.RDF.type, DCAT.Catalog) in g and (catalog, DCAT.dataset, DATASET) in g
    services = set(g.objects(catalog, DCAT.service))
    assert {rdflib.URIRef(f"{BASE}sparql"), rdflib.URIRef(f"{BASE}oai")} <= services
    for s in services:
        assert (s, rdflib.RDF.type, DCAT.DataService) in g and (s, DCAT.servesDataset, DATASET) in g
    assert len(set(g.objects(DATASET, DCAT.distribution))) == 2
    assert (DATASET, DCT.license, None) in g and (DATASET, DCT.modified, None) in g


def test_void_formats_and_406(client) -> None:  # noqa: ANN001
    for media in ("application/ld+json", "application/rdf+xml", "application/n-triples", "text/html"):
        assert client.get("/.well-known/void", headers={"Accept": media}).mimetype == media
    assert client.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406


def test_dataset_iri_dereferences_to_void(client) -> None:  # noqa: ANN001
    r = client.get("/id/dataset")
    assert r.status_code == 303 and r.headers["Location"] == f"{BASE}.well-known/void"


@pytest.mark.parametrize(("name", "fmt"), [("dataset.nt.gz", ox.RdfFormat.N_TRIPLES),
                                           ("dataset.ttl.gz", ox.RdfFormat.TURTLE)])
def test_dumps_hold_the_dataset(client, store, name: str, fmt: ox.RdfFormat) -> None:  # noqa: ANN001
    r = client.get(f"/dumps/{name}")
    assert r.status_code == 200 and r.mimetype == "application/gzip" and r.headers.get("ETag")
    triples = {q.triple for q in ox.parse(gzip.decompress(r.data), format=fmt)}
    stored = {q.triple for q in store.oxigraph.quads_for_pattern(None, None, None, None)}
    assert triples == stored
    assert client.get(f"/dumps/{name}", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("name", ["x.nt.gz", "..%2Fcatalog.sqlite", "catalog.sqlite", "%2e%2e", "dataset.nt"])
def test_only_the_two_dumps_are_served(client, name: str) -> None:  # noqa: ANN001
    assert client.get(f"/dumps/{name}").status_code == 404


def test_sitemap_lists_every_document_and_resolves(client, store) -> None:  # noqa: ANN001
    r = client.get("/sitemap.xml")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ElementTree.fromstring(r.data).findall("s:url/s:loc", ns)]
    keys = [e.key for e in store.catalog.all() if not e.deleted]
    for key in keys:
        assert f"{BASE}data/document/{key}.html" in locs
    assert any("/data/person/" in u for u in locs)
    for u in locs[:40]:
        assert client.get(u[len(BASE) - 1:]).status_code == 200, u


def test_robots_and_context(client) -> None:  # noqa: ANN001
    robots = client.get("/robots.txt").get_data(as_text=True)
    assert f"Sitemap: {BASE}sitemap.xml" in robots and "Disallow: /sparql" in robots
    ctx = client.get("/context.jsonld")
    assert ctx.mimetype == "application/ld+json" and ctx.headers["Access-Control-Allow-Origin"] == "*"
    assert ctx.json["@context"]["crm"] == "http://www.cidoc-crm.org/cidoc-crm/"


def test_browse_and_search(client) -> None:  # noqa: ANN001
    everything = client.get("/browse").get_data(as_text=True)
    n = int(re.search(r"(\d+) documents?", everything).group(1))
    assert n >= 13
    t = client.get("/search?title=liu+shaoqi").get_data(as_text=True)
    assert f'{BASE}id/document/116814"' in t
    hits = re.findall(r'href="' + re.escape(BASE) + r'id/document/([^"]+)"', t)
    assert "116814" in hits and len(hits) < n
    by_person = client.get(f"/search?person={BASE}id/person/helmut-kohl").get_data(as_text=True)
    assert 0 < len(re.findall(r'id/document/', by_person)) < n
    by_name = client.get("/search?person=kohl").get_data(as_text=True)
    assert re.findall(r'id/document/[^"]+', by_name) == re.findall(r'id/document/[^"]+', by_person)
    dated = client.get("/search?from=1956&to=1956-12").get_data(as_text=True)
    dates = re.findall(r'<span class="date">([^<]+)</span>', dated)
    assert dates and all(d.startswith("1956") for d in dates)
    assert client.get("/search?from=1999-99-99x").status_code == 400
    assert "parameter to" in client.get("/search?to=soon").get_data(as_text=True)
    assert client.get("/search?page=0").status_code == 400
    assert client.get("/search?title=" + "x" * 300).status_code == 400
    assert client.get("/browse/people").status_code == 200


def test_the_people_index_comes_in_pages(built) -> None:  # noqa: ANN001
    """/browse/people: `people_page_size` entries a page, every entry on exactly one page, in label order,
    rel=prev/next between them; a name filter; bad parameters are 400 naming the parameter."""
    from conftest import close_app, make_app

    from lod import dataset
    from lod.store import EmbeddedStore

    whole = dataset.people(EmbeddedStore(built.store), BASE)
    app = make_app(built, people_page_size=7)
    try:
        client = app.test_client()
        first = client.get("/browse/people").get_data(as_text=True)
        pages = -(-len(whole) // 7)
        assert f"{len(whole)} entries, page 1 of {pages}" in first and 'rel="prev"' not in first
        seen: list[str] = []
        for n in range(1, pages + 1):
            r = client.get(f"/browse/people?page={n}")
            assert r.status_code == 200
            t = r.get_data(as_text=True)
            assert ('rel="next"' in t) == (n < pages) and ('rel="prev"' in t) == (n > 1)
            seen += re.findall(r'<li><a href="([^"]+)">', t)
        assert seen == [iri for iri, _, _ in whole]
        beyond = client.get(f"/browse/people?page={pages + 1}").get_data(as_text=True)
        assert f"{len(whole)} entries" in beyond and "<li>" not in beyond
        liu = client.get("/browse/people?name=LIU").get_data(as_text=True)
        expected = [iri for iri, label, _ in whole if "liu" in label.lower()]
        assert expected and re.findall(r'<li><a href="([^"]+)">', liu) == expected[:7]
        assert client.get("/browse/people?name=no+such+name+at+all").get_data(as_text=True).count("<li>") == 0
        for bad, param in (("page=0", "page"), ("page=two", "page"), ("page=-1", "page"), ("name=" + "x" * 201, "name")):
            r = client.get("/browse/people?" + bad)
            assert r.status_code == 400 and f"parameter {param}" in r.get_data(as_text=True), bad
        assert client.get("/browse/people?page=2").headers["ETag"] != client.get("/browse/people").headers["ETag"]
    finally:
        close_app(app)


def test_dumps_are_served_from_a_store_named_relatively(built, monkeypatch) -> None:  # noqa: ANN001
    """`make serve` names its store `var/store`, relative to the working directory: the dumps must still be found."""
    from conftest import close_app, make_app

    monkeypatch.chdir(built.store.parent)
    app = make_app(built, store=built.store.name)
    try:
        r = app.test_client().get("/dumps/dataset.nt.gz")
        assert r.status_code == 200 and gzip.decompress(r.data).endswith(b" .\n")
    finally:
        close_app(app)
