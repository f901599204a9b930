"""GET /sparql without a query: the query page for browsers, the Service Description for machines.

Runs on the bundled records built by the real pipeline (conftest `built`/`client`); the page's example
queries are written for this dataset and must return rows from it.
"""

from __future__ import annotations

import json
import re

import rdflib
from lxml import html

from lod.sparql.examples import examples

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def test_browser_gets_the_query_page(client) -> None:  # noqa: ANN001
    r = client.get("/sparql", headers={"Accept": BROWSER})
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    doc = html.fromstring(r.data)
    scripts = doc.xpath("//script")
    assert scripts and all(s.get("src") and not (s.text or "").strip() for s in scripts)   # no inline scripts
    assert not doc.xpath("//@*[starts-with(name(), 'on')]")                                # no inline handlers
    form = doc.get_element_by_id("query-form")
    assert form.get("method") == "post" and form.get("action").endswith("/sparql")
    titles = [b.text_content() for b in doc.xpath("//button[@class='example']")]
    assert len(titles) == 4
    assert any(t.startswith("Documents mentioning ") for t in titles)
    assert any(t.startswith("People mentioned together with ") for t in titles)
    assert any("Timeline" in t for t in titles) and any("Wikidata" in t for t in titles)
    for path in ("/static/sparql.js", "/static/sparql.css"):
        assert client.get(path).status_code == 200


def test_examples_answer_with_rows_from_this_dataset(app, client) -> None:  # noqa: ANN001
    found = {i: q for i, _, q in examples(app.config["LOD_STORE"], app.config["LOD_SETTINGS"])}
    assert set(found) == {"mentions", "co-mentions", "timeline", "wikidata-births"}
    for key in ("mentions", "co-mentions", "timeline"):
        r = client.post("/sparql", data=found[key], content_type="application/sparql-query")
        assert r.status_code == 200, (key, r.data)
        rows = json.loads(r.data)["results"]["bindings"]
        assert rows, key
    years = [int(b["year"]["value"]) for b in json.loads(client.post(
        "/sparql", data=found["timeline"], content_type="application/sparql-query").data)["results"]["bindings"]]
    assert years == sorted(years) and 1949 in years and 1997 in years
    # the example person is a person of this dataset: a real IRI minted by the build
    person = re.search(r"crm:P67_refers_to <([^>]+)>", found["mentions"]).group(1)
    r = client.get("/sparql", query_string={"query": f"ASK {{ <{person}> a <http://www.cidoc-crm.org/cidoc-crm/E21_Person> }}"})
    assert json.loads(r.data)["boolean"] is True


def test_service_description_by_accept(client, built) -> None:  # noqa: ANN001
    for accept, fmt in (("text/turtle", "turtle"), ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld"),
                        ("application/n-triples", "nt"), ("*/*", "turtle"), (None, "turtle")):
        r = client.get("/sparql", headers={"Accept": accept} if accept else {})
        assert r.status_code == 200, accept
        g = rdflib.Graph().parse(data=r.data, format=fmt)
        (svc,) = set(g.subjects(rdflib.RDF.type, SD.Service))
        assert str(g.value(svc, SD.endpoint)).endswith("/sparql")
        comment = str(g.value(svc, rdflib.RDFS.comment))
        assert "Read-only" in comment and "https://query.wikidata.org/sparql" in comment
    r = client.get("/sparql", headers={"Accept": "image/png"})
    assert r.status_code == 406
