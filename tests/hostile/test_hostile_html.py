"""Hostile HTML: literals carrying markup and IRIs with javascript: go in through record files, are
built by the real pipeline and rendered; every page shows them escaped and intact and links nothing
that is not http(s). Related: tests/test_html.py (one evil record on the document page, href()).
"""

from __future__ import annotations

import html
import json
import re

import pyoxigraph as ox
import pytest
from lxml import etree

from hostile.conftest import count
from hostile.corpus import HTML_CASES, Case

BASE = "http://localhost:8080/"
RAW_MARKUP = ("<script", "<img", "<svg", "<iframe", "<b ", "<style", "<!DOCTYPE lolz", "<!ENTITY", "<![CDATA[")
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def assert_safe_page(page: str) -> str:
    """No markup from the data, one script element (the JSON-LD), only http(s)/relative links."""
    assert page.count("<script") == 1 and len(JSON_LD.findall(page)) == 1, "exactly one <script>: the JSON-LD"
    outside = JSON_LD.sub("", page)
    for raw in RAW_MARKUP:
        assert raw not in outside, raw
    assert "onmouseover=" not in outside.replace("onmouseover=alert", "") or "&lt;" in outside
    for link in re.findall(r'(?:href|src|action|formaction)\s*=\s*"([^"]*)"', page, flags=re.I):
        assert link.startswith(("http://", "https://", "/", "?", "#")), link
        assert not re.match(r"\s*(javascript|data|vbscript):", html.unescape(link), re.I), link
    embedded = JSON_LD.search(page).group(1)
    assert "<" not in embedded and ">" not in embedded
    json.loads(embedded)
    return outside


@pytest.fixture(scope="module")
def c(hostile_app):  # noqa: ANN001, ANN201
    return hostile_app.test_client()


@pytest.mark.parametrize("case", HTML_CASES, ids=lambda c: c.id)
def test_document_page(case: Case, c) -> None:  # noqa: ANN001
    key = case.input["key"]
    r = c.get(f"/data/document/{key}.html")
    assert r.status_code == 200, r.status_code
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    page = r.get_data(as_text=True)
    outside = assert_safe_page(page)
    if case.expect is not None:
        assert case.expect in html.unescape(outside), "shown, intact"          # nothing lost
    if case.id == "subject-template":
        assert ">49<" not in outside
    if case.expect is not None and case.id not in ("person-tag", "place-svg", "subject-template",
                                                   "author-javascript-name"):
        # the same literal, exactly, in the data formats
        nt = c.get(f"/data/document/{key}.nt").data
        assert any(case.expect in t.object.value for t in ox.parse(nt, ox.RdfFormat.N_TRIPLES)
                   if isinstance(t.object, ox.Literal))
    count("html")


@pytest.mark.parametrize("case", [x for x in HTML_CASES if x.input.get("people") or x.input.get("places")
                                  or x.input.get("authors")], ids=lambda c: c.id)
def test_entity_page(case: Case, c) -> None:  # noqa: ANN001
    """The person/place minted for a hostile name: its own page shows the name escaped."""
    doc = c.get(f"/data/document/{case.input['key']}.jsonld").get_json()
    text = json.dumps(doc)
    iris = set(re.findall(r'"(http://localhost:8080/id/(?:person|place|organization)/[^"]+)"', text))
    assert iris, text[:500]
    shown = False
    for iri in iris:
        r = c.get(iri.replace("http://localhost:8080/id/", "/data/", 1) + ".html")
        assert r.status_code == 200
        outside = assert_safe_page(r.get_data(as_text=True))
        shown = shown or case.expect in html.unescape(outside)
    assert shown
    count("html")


@pytest.mark.parametrize("url", ["/", "/browse", "/browse/people", "/search?title=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                                 "/search?title=Hostile", "/search?person=%22%3E%3Csvg%20onload%3Dalert(1)%3E",
                                 "/search?from=%3Cscript%3E&to=javascript:alert(1)"])
def test_listing_pages(url: str, c) -> None:  # noqa: ANN001
    r = c.get(url)
    assert r.status_code in (200, 400), r.status_code
    if r.mimetype == "text/html":
        assert_safe_page(r.get_data(as_text=True))
    count("html")


def test_sitemap_and_oai_stay_well_formed(c) -> None:  # noqa: ANN001
    from oai_support import errors, valid

    from lod.oai.repository import repository_identifier

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.fromstring(c.get("/sitemap.xml").data, parser)
    assert any("hostile-title-script" in (e.text or "") for e in root.iter())
    for case in HTML_CASES:
        for prefix in ("oai_dc", "edm", "rdf"):
            r = c.get("/oai", query_string={"verb": "GetRecord", "metadataPrefix": prefix,
                                            "identifier": f"oai:{repository_identifier(BASE)}:{case.input['key']}"})
            root = valid(r.data)                       # well-formed and schema-valid
            assert not errors(root), (case.id, prefix, errors(root))
            if case.id == "summary-doctype-entities" and prefix == "oai_dc":
                assert b"&amp;j;" in r.data and len(r.data) < 20_000       # text, never expanded
    count("html")
