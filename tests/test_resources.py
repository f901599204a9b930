"""Dereferencing conventions (issue 4, 1-10) on the real build of the bundled records."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pyoxigraph as ox
import pytest
import rdflib
import yaml
from conftest import BASE, DATA, build_into, make_app
from test_negotiation import (
    CHROMIUM,
    CURL,
    FIREFOX,
    RAPPER_GUESS,
    RDFLIB_DEFAULT,
    RDFLIB_JSONLD,
    RDFLIB_TURTLE,
)

DOC = "116814"
MEDIA = {"ttl": "text/turtle", "jsonld": "application/ld+json", "rdf": "application/rdf+xml",
         "nt": "application/n-triples", "html": "text/html"}
RDFLIB_FORMAT = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml", "nt": "nt"}
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")


def local(url: str, base: str = BASE) -> str:
    assert url.startswith(base), url
    return "/" + url[len(base):]


def parse(body: bytes, ext: str, base: str = BASE) -> rdflib.Graph:
    g = rdflib.Graph()
    if ext == "jsonld":
        import json

        from lod.render import context_document
        data = json.loads(body)
        data["@context"] = context_document()["@context"]     # ours, inlined: no fetching in tests
        g.parse(data=json.dumps(data), format="json-ld")
    else:
        g.parse(data=body, format=RDFLIB_FORMAT[ext])
    return g


def a_thing(built, kind: str) -> str:  # noqa: ANN001
    from lod.store import EmbeddedStore
    st = EmbeddedStore(built.store)
    for q in st.oxigraph.quads_for_pattern(None, None, None, None):
        if q.subject.value.startswith(f"{built.base}id/{kind}/"):
            return q.subject.value
    raise AssertionError(f"no {kind} in the build")


# ---------------------------------------------------------------------------------------------- 303
@pytest.mark.parametrize("ext", list(MEDIA))
def test_thing_answers_303_by_accept(client, ext: str) -> None:  # noqa: ANN001
    r = client.get(f"/id/document/{DOC}", headers={"Accept": MEDIA[ext]})
    assert r.status_code == 303
    assert r.headers["Location"] == f"{BASE}data/document/{DOC}.{ext}"
    assert r.headers["Vary"] == "Accept"


@pytest.mark.parametrize("ext", list(MEDIA))
def test_negotiated_document_has_vary_and_content_location(client, ext: str) -> None:  # noqa: ANN001
    r = client.get(f"/data/document/{DOC}", headers={"Accept": MEDIA[ext]})
    assert r.status_code == 200
    assert r.mimetype == MEDIA[ext]
    assert r.headers["Vary"] == "Accept"
    assert r.headers["Content-Location"] == f"{BASE}data/document/{DOC}.{ext}"
    same = client.get(f"/data/document/{DOC}.{ext}")
    assert same.data == r.data


@pytest.mark.parametrize("ext", list(MEDIA))
@pytest.mark.parametrize("accept", ["image/png", "text/html", "application/rdf+xml;q=0", None])
def test_format_urls_answer_200_whatever_the_accept(client, ext: str, accept: str | None) -> None:  # noqa: ANN001
    r = client.get(f"/data/document/{DOC}.{ext}", headers={"Accept": accept} if accept else {})
    assert r.status_code == 200
    assert r.mimetype == MEDIA[ext]
    assert "Vary" not in r.headers


@pytest.mark.parametrize(("accept", "ext"), [
    ("text/html;q=0.5, application/rdf+xml;q=0.9", "rdf"),          # q beats order
    ("application/n-triples;q=0.2, text/turtle;q=0.1", "nt"),
    ("*/*", "ttl"), ("text/*", "ttl"), ("application/*", "jsonld"),  # wildcards -> server preference
    ("text/html, text/turtle", "ttl"), ("application/n-triples, application/rdf+xml", "rdf"),   # ties
    (None, "ttl"), ("", "ttl"),                                       # documented default
    ("application/json", "jsonld"), ("application/x-turtle", "ttl"), ("application/xhtml+xml", "html"),
    (CHROMIUM, "html"), (FIREFOX, "html"), (CURL, "ttl"), (RDFLIB_DEFAULT, "ttl"), (RDFLIB_TURTLE, "ttl"),
    (RDFLIB_JSONLD, "jsonld"), (RAPPER_GUESS, "ttl"),
])
def test_negotiation_rules_and_real_client_headers(client, accept: str | None, ext: str) -> None:  # noqa: ANN001
    headers = {"Accept": accept} if accept is not None else {}
    r = client.get(f"/id/document/{DOC}", headers=headers)
    assert r.status_code == 303, accept
    assert r.headers["Location"].endswith(f".{ext}"), (accept, r.headers["Location"])


def test_unsupported_type_is_406_listing_alternatives(client) -> None:  # noqa: ANN001
    for url in (f"/id/document/{DOC}", f"/data/document/{DOC}"):
        r = client.get(url, headers={"Accept": "image/png"})
        assert r.status_code == 406
        for ext, media in MEDIA.items():
            assert f"{BASE}data/document/{DOC}.{ext}" in r.text
            assert f'type="{media}"' in r.headers["Link"]


@pytest.mark.parametrize("accept", [None, "text/html", "text/turtle", "image/png", "*/*", CHROMIUM])
@pytest.mark.parametrize("url", ["/id/document/no-such-record", "/data/document/no-such-record",
                                 "/data/document/no-such-record.ttl", "/id/person/nobody", "/vocab/role/nobody",
                                 "/id/nokind", "/id/", "/data/", "/id/document/%ZZ", "/id/document/%C3",
                                 "/id/document/" + "x" * 5000, "/data/document/116814.exe"])
def test_unknown_resource_is_404_for_every_accept(client, url: str, accept: str | None) -> None:  # noqa: ANN001
    r = client.get(url, headers={"Accept": accept} if accept else {})
    assert r.status_code == 404
    assert "Location" not in r.headers


def test_bad_page_parameter_is_400_naming_it(client) -> None:  # noqa: ANN001
    for value in ("abc", "0", "-1", "1e3", "99999999999"):
        r = client.get(f"/data/document/{DOC}.ttl?page={value}")
        assert r.status_code == 400 and "page" in r.text
    assert client.get(f"/data/document/{DOC}.ttl?page=2").status_code == 404   # documents have one page


# ---------------------------------------------------------------------------------------------- awkward IRIs
ODD_KEYS = ["o'hara-(1956),_draft", "50%-draft", "刘少奇-note", "zürich-(e),_x'y%z"]


@pytest.fixture(scope="module")
def odd(tmp_path_factory):  # noqa: ANN001, ANN201
    tmp = tmp_path_factory.mktemp("odd")
    data = tmp / "data"
    import shutil
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    for i, key in enumerate(ODD_KEYS):
        (data / "records" / f"odd-{i}.yaml").write_text(yaml.safe_dump(
            {"key": key, "title": f"An awkward key {i}", "date": "1956-11-22", "people": ["Liu Shaoqi"]},
            allow_unicode=True), encoding="utf-8")
    built = build_into(tmp, data=data)
    assert not built.report.rejected, built.report.rejected
    return built


@pytest.mark.parametrize("key", ODD_KEYS)
def test_awkward_iris_survive_the_redirect(odd, key: str) -> None:  # noqa: ANN001
    from lod.uris import Minter, iri_to_uri
    iri = Minter(BASE).document(key)
    app = make_app(odd)
    c = app.test_client()
    from lod.web.documents import State
    if iri.endswith("/" + key):    # kept by the build (lod.described); a key the minter escapes is described live
        assert State.of(app).describer.describe(iri).turtle is not None
    wire = quote(local(iri), safe="/()',%!$&*+;=:@~-._")        # what a client puts on the wire
    r = c.get(wire, headers={"Accept": "text/turtle"})
    assert r.status_code == 303, wire
    loc = r.headers["Location"]
    assert loc.isascii()
    # exactly the document's IRI; only non-ASCII characters percent-encoded (RFC 3987 §3.1) for HTTP
    assert loc == iri_to_uri(Minter(BASE).data_document(iri, "ttl"))
    assert all(ch in loc for ch in "()',") if any(ch in key for ch in "()',") else True
    doc = c.get(local(loc))
    assert doc.status_code == 200
    g = parse(doc.data, "ttl")
    assert (rdflib.URIRef(Minter(BASE).data_document(iri)), FOAF.primaryTopic, rdflib.URIRef(iri)) in g
    assert (rdflib.URIRef(iri), None, None) in g


# ---------------------------------------------------------------------------------------------- proxy
PUBLIC = "https://data.example.org/lod/"


@pytest.fixture(scope="module")
def proxied(tmp_path_factory):  # noqa: ANN001, ANN201
    return build_into(tmp_path_factory.mktemp("proxied"), base=PUBLIC)


def test_behind_a_reverse_proxy_everything_uses_the_public_base(proxied) -> None:  # noqa: ANN001
    c = make_app(proxied, trust_proxy=True).test_client()
    backend = {"Host": "10.0.0.7:8080", "X-Forwarded-Host": "evil.example.com", "X-Forwarded-Proto": "http"}
    r = c.get(f"/id/document/{DOC}", headers={**backend, "Accept": "text/html"})
    assert r.headers["Location"] == f"{PUBLIC}data/document/{DOC}.html"
    for url in (f"/data/document/{DOC}", f"/data/document/{DOC}.html", "/", "/.well-known/void", "/sitemap.xml"):
        r = c.get(url, headers=backend)
        assert r.status_code == 200, url
        text = r.get_data(as_text=True) + str(r.headers)
        assert "10.0.0.7" not in text and "evil.example.com" not in text and "localhost" not in text, url
        for link in re.findall(r"<([^>]+)>", r.headers.get("Link", "")):
            assert link.startswith(PUBLIC)
    html = c.get(f"/data/document/{DOC}.html", headers=backend).get_data(as_text=True)
    hrefs = re.findall(r'href="([^"]+)"', html)
    public_path = "/" + PUBLIC.split("://", 1)[1].split("/", 1)[1]      # "/lod/"
    # absolute links use the public base; assets are path-absolute under the public base path (same-origin for CSP)
    assert hrefs and all(h.startswith(("https://", "http://", public_path)) for h in hrefs), hrefs
    assert any(h.startswith(public_path + "static/") for h in hrefs)


# ---------------------------------------------------------------------------------------------- links
def test_link_headers_advertise_every_variant_and_all_resolve(client) -> None:  # noqa: ANN001
    r = client.get(f"/data/document/{DOC}", headers={"Accept": "text/turtle"})
    links = re.findall(r'<([^>]+)>;\s*rel="([^"]+)"(?:;\s*type="([^"]+)")?', r.headers["Link"])
    alternates = {t: u for u, rel, t in links if rel == "alternate"}
    assert alternates == {m: f"{BASE}data/document/{DOC}.{e}" for e, m in MEDIA.items()}
    for url, _rel, media in links:
        resp = client.get(local(url), follow_redirects=True)
        assert resp.status_code == 200, url
        if media:
            assert resp.mimetype == media


def test_html_advertises_alternates_and_every_link_resolves(client) -> None:  # noqa: ANN001
    html = client.get(f"/data/document/{DOC}.html").get_data(as_text=True)
    alts = re.findall(r'<link rel="alternate" type="([^"]+)" href="([^"]+)">', html)
    assert {t for t, _ in alts} == set(MEDIA.values())
    ours = sorted({h for h in re.findall(r'href="([^"]+)"', html) if h.startswith(BASE)})
    assert len(ours) > 10
    for url in ours:
        resp = client.get(local(url.replace("&amp;", "&")), follow_redirects=True,
                          headers={"Accept": "text/html"})
        assert resp.status_code in (200, 400) if "/sparql" in url else resp.status_code == 200, url


# ---------------------------------------------------------------------------------------------- caching
def test_etag_per_format_last_modified_and_304(client, built) -> None:  # noqa: ANN001
    from lod.store import Catalog, Layout
    from lod.web.cache import http_date
    built_at = Catalog(Layout(built.store).current() / "catalog.sqlite", readonly=True).meta()["built_at"]
    tags = set()
    for ext in MEDIA:
        r = client.get(f"/data/document/{DOC}.{ext}")
        tag = r.headers["ETag"]
        tags.add(tag)
        assert r.headers["Last-Modified"] == http_date(built_at)
        assert r.headers["Cache-Control"].startswith("public, max-age=")
        again = client.get(f"/data/document/{DOC}.{ext}", headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.data == b""
        assert again.headers["ETag"] == tag
        assert client.get(f"/data/document/{DOC}.{ext}", headers={"If-None-Match": f'"x", {tag}'}).status_code == 304
        assert client.get(f"/data/document/{DOC}.{ext}", headers={"If-None-Match": '"other"'}).status_code == 200
        ims = client.get(f"/data/document/{DOC}.{ext}", headers={"If-Modified-Since": r.headers["Last-Modified"]})
        assert ims.status_code == 304
        old = client.get(f"/data/document/{DOC}.{ext}", headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
        assert old.status_code == 200
        assert client.get(f"/data/document/{DOC}.{ext}", headers={"If-Modified-Since": "garbage"}).status_code == 200
    assert len(tags) == len(MEDIA)
    neg = client.get(f"/data/document/{DOC}", headers={"Accept": "text/turtle"})
    assert client.get(f"/data/document/{DOC}", headers={"Accept": "text/turtle",
                                                         "If-None-Match": neg.headers["ETag"]}).status_code == 304


def test_cors(client) -> None:  # noqa: ANN001
    for url, headers in ((f"/data/document/{DOC}", {"Accept": "text/turtle"}), (f"/data/document/{DOC}.jsonld", {}),
                         (f"/id/document/{DOC}", {})):
        r = client.get(url, headers={**headers, "Origin": "https://elsewhere.example"})
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        exposed = {h.strip().lower() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
        assert {"link", "content-location", "etag"} <= exposed
    pre = client.options(f"/data/document/{DOC}", headers={"Origin": "https://x.example",
                                                           "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200 and pre.headers["Access-Control-Allow-Origin"] == "*"


# ---------------------------------------------------------------------------------------------- content
def test_document_states_primary_topic_licence_and_modification(client) -> None:  # noqa: ANN001
    r = client.get(f"/data/document/{DOC}.ttl")
    g = parse(r.data, "ttl")
    doc, thing = rdflib.URIRef(f"{BASE}data/document/{DOC}"), rdflib.URIRef(f"{BASE}id/document/{DOC}")
    assert (doc, FOAF.primaryTopic, thing) in g
    assert (doc, DCT.license, rdflib.URIRef("http://creativecommons.org/licenses/by/4.0/")) in g
    dataset = rdflib.URIRef(f"{BASE}id/dataset")
    assert (dataset, DCT.license, None) in g and (dataset, DCT.modified, None) in g and (doc, DCT.modified, None) in g


def test_document_description_holds_its_whole_record_graph_and_labels(client, built) -> None:  # noqa: ANN001
    import pyoxigraph as ox

    from lod.store import EmbeddedStore
    st = EmbeddedStore(built.store)
    graph = ox.NamedNode(f"{BASE}graph/document/{DOC}")
    record = {q.triple for q in st.oxigraph.quads_for_pattern(None, None, None, graph)}
    served = {q.triple for q in ox.parse(client.get(f"/data/document/{DOC}.nt").data, format=ox.RdfFormat.N_TRIPLES)}
    assert record and record <= served
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    pref = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    labelled = {t.subject for t in served if t.predicate in (label, pref)}
    linked = {t.object for t in record if isinstance(t.object, ox.NamedNode)}
    has_label = {n for n in linked if any(True for p in (label, pref) for _ in st.oxigraph.quads_for_pattern(n, p, None))}
    assert len(has_label) > 10 and has_label <= labelled, has_label - labelled   # every label we have is given


@pytest.mark.parametrize("kind", ["person", "place", "organization", "event", "timespan", "creation", "object"])
def test_every_kind_of_thing_dereferences(client, built, kind: str) -> None:  # noqa: ANN001
    iri = a_thing(built, kind)
    r = client.get(local(iri), headers={"Accept": "text/turtle"})
    assert r.status_code == 303
    doc = client.get(local(r.headers["Location"]))
    assert doc.status_code == 200
    g = parse(doc.data, "ttl")
    assert (rdflib.URIRef(iri), None, None) in g
    assert client.get(local(iri), headers={"Accept": "text/html"}, follow_redirects=True).status_code == 200


def test_vocabulary_terms_dereference(client) -> None:  # noqa: ANN001
    for iri in (f"{BASE}vocab/role/addressee", f"{BASE}vocab/document-type", f"{BASE}vocab/"):
        r = client.get(local(iri), headers={"Accept": "text/turtle"})
        assert r.status_code == 303, iri
        doc = client.get(local(r.headers["Location"]))
        assert doc.status_code == 200
        assert (rdflib.URIRef(iri), None, None) in parse(doc.data, "ttl")


def test_inverse_links_are_paged_and_none_disappears(built) -> None:  # noqa: ANN001
    import pyoxigraph as ox

    from lod.store import EmbeddedStore
    st = EmbeddedStore(built.store)
    iri = f"{BASE}id/person/helmut-kohl"
    expected = {q.graph_name.value.replace("/graph/document/", "/id/document/")
                for q in st.oxigraph.quads_for_pattern(None, None, ox.NamedNode(iri), None)
                if q.graph_name.value.startswith(f"{BASE}graph/document/")}
    assert len(expected) >= 3
    c = make_app(built, inverse_page_size=2).test_client()
    url, seen, pages = "/data/person/helmut-kohl.ttl", [], 0
    while url:
        r = c.get(url)
        assert r.status_code == 200
        g = parse(r.data, "ttl")
        page_docs = {str(s) for s in g.subjects() if str(s).startswith(f"{BASE}id/document/")
                     and (s, None, rdflib.URIRef(iri)) in g}
        assert len(page_docs) <= 2
        seen += sorted(page_docs)
        pages += 1
        subject = rdflib.URIRef(f"{BASE}data/person/helmut-kohl" + (f"?page={pages}" if pages > 1 else ""))
        assert (subject, None, None) in g, (url, r.data.decode()[:3000])
        total = int(g.value(subject,
                            HYDRA.totalItems))
        assert total == len(expected)
        nxt = re.search(r'<([^>]+)>;\s*rel="next"', r.headers["Link"])
        url = local(nxt.group(1)) if nxt else None
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen))
    assert pages == -(-len(expected) // 2)
    assert c.get(f"/data/person/helmut-kohl.ttl?page={pages + 1}").status_code == 404


def test_blank_node_closure(tmp_path: Path) -> None:
    """A description carries the blank nodes it reaches, however deep (a record graph holds none today)."""
    import pyoxigraph as ox

    from lod.describe import Describer
    from lod.uris import Minter

    class Store:
        oxigraph = ox.Store()

    g = ox.NamedNode(f"{BASE}graph/authority")
    thing = ox.NamedNode(f"{BASE}id/person/x")
    b1, b2 = ox.BlankNode(), ox.BlankNode()
    p = ox.NamedNode("http://example.org/p")
    Store.oxigraph.extend([ox.Quad(thing, p, b1, g), ox.Quad(b1, p, b2, g), ox.Quad(b2, p, ox.Literal("deep"), g),
                           ox.Quad(b2, p, b1, g)])
    d = Describer(Store(), Minter(BASE), licence="http://creativecommons.org/licenses/by/4.0/")
    desc = d.describe(thing.value)
    assert desc is not None
    assert ox.Triple(b2, p, ox.Literal("deep")) in desc.triples and ox.Triple(b2, p, b1) in desc.triples


def test_documents_come_from_the_prepared_graph_with_the_same_description(built, tmp_path: Path) -> None:  # noqa: ANN001
    """The build's prepared record graph (lod.oai.prepared) and the store give the same description;
    a damaged prepared file falls back to the store."""
    import shutil

    from lod import config
    from lod.describe import Describer
    from lod.oai.prepared import PreparedFiles
    from lod.render import RDF_FORMATS, serialize_lines
    from lod.store import EmbeddedStore
    from lod.uris import Minter

    settings = config.load({"store": str(built.store), "base_uri": built.base})
    store = EmbeddedStore(built.store)
    licence = settings.licence
    # the prepared record graph, not the description the build kept (tests/test_described.py)
    prepared = Describer(store, Minter(built.base), licence=licence, prepared=PreparedFiles(settings, described=False))
    live = Describer(store, Minter(built.base), licence=licence)
    keys = [e.key for e in store.catalog.all() if not e.deleted]
    assert len(keys) == 13
    for key in keys:
        iri = f"{built.base}id/document/{key}"
        from_file = list(ox.parse(prepared._prepared_nt(iri) or b"", ox.RdfFormat.N_TRIPLES))
        assert from_file, key                     # really read from the prepared file
        a, b = prepared.describe(iri), live.describe(iri)
        assert a is not None and b is not None
        assert a.nt is not None and b.nt is None      # described from N-Triples lines, and from objects
        assert set(a.triples) == set(b.triples), key
        assert len(a.triples) == len(b.triples) > len(from_file)   # labels and metadata come on top
        for fmt in RDF_FORMATS:                        # every format written from the lines says the same
            if fmt.name != "jsonld":
                body = serialize_lines(a.nt, fmt)
                assert {q.triple for q in ox.parse(body, fmt.rdf, base_iri=built.base)} == set(b.triples), fmt
    assert prepared.describe(f"{built.base}id/document/no-such-record") is None
    assert prepared.describe(f"{built.base}id/document/{keys[0]}", page=2) is None

    # a copy of the store whose prepared file is garbage: same description, from the store
    copy = tmp_path / "store"
    shutil.copytree(built.store, copy)
    damaged = EmbeddedStore(copy)
    (damaged.build / "oai.sqlite").write_bytes(b"this is not a database" * 100)
    fallback = Describer(damaged, Minter(built.base), licence=licence,
                         prepared=PreparedFiles(config.load({"store": str(copy), "base_uri": built.base}),
                                                described=False))
    iri = f"{built.base}id/document/{keys[0]}"
    assert fallback._prepared_nt(iri) is None
    assert set(fallback.describe(iri).triples) == set(live.describe(iri).triples)
