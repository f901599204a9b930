"""Real clients over real HTTP (the `live` fixture): rdflib following the 303, Debian's rapper, and
every served format parsed and compared: they all carry the same graph."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

import pytest
import rdflib
from rdflib.compare import isomorphic

from lod.render import context_document

FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml", "nt": "nt"}


def fetch(url: str, accept: str | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def graph_of(body: bytes, ext: str) -> rdflib.Graph:
    g = rdflib.Graph()
    if ext == "jsonld":
        data = json.loads(body)
        data["@context"] = context_document()["@context"]
        g.parse(data=json.dumps(data), format="json-ld")
    else:
        g.parse(data=body, format=FORMATS[ext])
    return g


@pytest.fixture(scope="module")
def things(live) -> list[str]:  # noqa: ANN001
    base = live.url
    return [f"{base}id/document/116814", f"{base}id/person/liu-shaoqi", f"{base}id/place/beijing",
            f"{base}vocab/role/addressee"]


def test_rdflib_parses_a_thing_iri_following_the_303(live, things) -> None:  # noqa: ANN001
    for iri in things:
        g = rdflib.Graph()
        g.parse(iri)                                # rdflib's own HTTP, its own Accept header
        assert (rdflib.URIRef(iri), None, None) in g, iri
        assert (None, rdflib.URIRef("http://xmlns.com/foaf/0.1/primaryTopic"), rdflib.URIRef(iri)) in g


def test_rdflib_json_ld_with_the_published_context(live) -> None:  # noqa: ANN001
    iri = f"{live.url}id/document/116814"
    g = rdflib.Graph()
    g.parse(iri, format="json-ld")                 # sends application/ld+json; fetches our context from us
    assert (rdflib.URIRef(iri), rdflib.RDF.type, rdflib.URIRef("http://www.cidoc-crm.org/cidoc-crm/E31_Document")) in g


def test_every_format_carries_the_same_graph(live, things) -> None:  # noqa: ANN001
    from lod.uris import iri_to_uri
    for iri in things:
        status, headers, _ = fetch(iri_to_uri(iri).replace("/id/", "/data/", 1).replace("/vocab/", "/data/vocab/", 1)
                                   + ".ttl")
        assert status == 200
        graphs = {}
        for ext in FORMATS:
            url = iri_to_uri(iri).replace("/id/", "/data/", 1).replace("/vocab/", "/data/vocab/", 1) + f".{ext}"
            status, _, body = fetch(url)
            assert status == 200
            graphs[ext] = graph_of(body, ext)
        ref = graphs["nt"]
        assert len(ref) > 5
        for ext, g in graphs.items():
            assert isomorphic(g, ref), (iri, ext, len(g), len(ref))


@pytest.mark.skipif(not shutil.which("rapper"), reason="Debian's rapper (raptor2-utils) is not installed")
@pytest.mark.parametrize("mode", ["guess", "turtle", "rdfxml", "ntriples"])
def test_rapper_dereferences_and_counts_the_same_triples(live, mode: str) -> None:  # noqa: ANN001
    iri = f"{live.url}id/document/116814"
    out = subprocess.run(["rapper", "-i", mode, "-o", "ntriples", iri], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    g = rdflib.Graph().parse(data=out.stdout, format="nt")
    _, _, body = fetch(f"{live.url}data/document/116814.nt")
    assert isomorphic(g, graph_of(body, "nt"))


def test_curl_like_client_gets_turtle_by_default(live) -> None:  # noqa: ANN001
    status, headers, body = fetch(f"{live.url}id/person/liu-shaoqi", accept="*/*")
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    status, headers, body = fetch(f"{live.url}id/person/liu-shaoqi")
    assert headers["Content-Type"].startswith("text/turtle")
