"""HTML pages: what a historian reads, embedded JSON-LD, escaping, link safety, security headers."""

from __future__ import annotations

import html as htmllib
import json
import re
import shutil

import pytest
import rdflib
import yaml
from conftest import BASE, DATA, build_into, make_app
from rdflib.compare import isomorphic

from lod.render import context_document
from lod.web.html import embed_json, href

DOC = "116814"


def text_of(page: str) -> str:
    main = page.split("<main>", 1)[1].split("</main>", 1)[0]
    return htmllib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def embedded(page: str) -> rdflib.Graph:
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    data["@context"] = context_document()["@context"]
    return rdflib.Graph().parse(data=json.dumps(data), format="json-ld")


def test_document_page_shows_what_a_historian_cites(client) -> None:  # noqa: ANN001
    r = client.get(f"/data/document/{DOC}.html")
    page = r.get_data(as_text=True)
    t = text_of(page)
    assert "Diary of Soviet Ambassador P.F. Yudin, Memorandum of Conversation with Liu Shaoqi" in t
    assert "Date of the document 1956-11-22" in t and "Date of the conversation 1956-10-30" in t
    assert "Type Memorandum of conversation" in t
    assert re.search(r"Author .*Yudin", t)
    assert re.search(r"Addressees .*Shepilov", t) and re.search(r"Also present .*Rakhmanin", t)
    assert "Archival citation AVPRF f. 0100, op. 49" in t
    assert re.search(r"Obtained by .*Jersild", t) and re.search(r"Translated by .*Jersild", t)
    assert "potential withdrawal of Soviet advisors" in t                              # summary
    assert "Today I had a discussion with Liu Shaoqi" in t                             # full text
    assert re.search(r'<a class="mention" href="' + re.escape(BASE) + r'id/person/liu-shaoqi">Liu Shaoqi</a>', page)
    assert re.search(r'class="wd" href="http://www\.wikidata\.org/entity/Q\d+"', page)   # referred, with Wikidata
    assert "Leon Levy Foundation" in t                                                 # credits
    for ext in ("ttl", "jsonld", "rdf", "nt", "html"):
        assert f'href="{BASE}data/document/{DOC}.{ext}"' in page                       # downloads
    assert 'rel="stylesheet"' in page and "<style" not in page and " style=" not in page


def test_embedded_json_ld_is_the_description(client) -> None:  # noqa: ANN001
    page = client.get(f"/data/document/{DOC}.html").get_data(as_text=True)
    nt = client.get(f"/data/document/{DOC}.nt").data
    assert isomorphic(embedded(page), rdflib.Graph().parse(data=nt, format="nt"))


@pytest.mark.parametrize("url", ["/", "/browse", "/search?title=conversation", "/browse/people",
                                 f"/data/document/{DOC}.html", "/data/person/liu-shaoqi.html",
                                 "/data/vocab/role/addressee.html"])
def test_every_page_embeds_json_ld_and_has_security_headers(client, url: str) -> None:  # noqa: ANN001
    r = client.get(url, headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert len(embedded(r.get_data(as_text=True))) > 0
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["X-Frame-Options"] == "DENY"


def test_person_page(client, built) -> None:  # noqa: ANN001
    page = client.get("/data/person/liu-shaoqi.html").get_data(as_text=True)
    t = text_of(page)
    assert t.count("Liu Shaoqi") >= 2 and "Variants" in t and "刘少奇" in t
    dates = re.findall(r'<span class="date">([^<]+)</span>', page)
    assert len(dates) >= 2 and dates == sorted(dates)                 # a timeline
    assert f'href="{BASE}id/document/{DOC}"' in page
    kohl = client.get("/data/person/helmut-kohl.html").get_data(as_text=True)
    assert re.search(r'<a class="wikidata" href="http://www\.wikidata\.org/entity/Q\d+"', kohl) or "Wikidata" not in kohl


def test_person_page_life_dates_from_the_enrichment_graph(tmp_path) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    auth = yaml.safe_load((data / "authority.yaml").read_text(encoding="utf-8"))
    entities = auth["entities"] if isinstance(auth, dict) and "entities" in auth else auth
    qid = next(e.get("wikidata") for e in (entities.values() if isinstance(entities, dict) else entities)
               if isinstance(e, dict) and e.get("wikidata") and e.get("confidence") == "high")
    (data / "wikidata").mkdir(exist_ok=True)
    (data / "wikidata" / "enrichment.ttl").write_text(
        f"<http://www.wikidata.org/entity/{qid}> <http://www.wikidata.org/prop/direct/P569> "
        f'"1898-11-24"^^<http://www.w3.org/2001/XMLSchema#date> ; '
        f'<http://www.wikidata.org/prop/direct/P570> "1969-11-12"^^<http://www.w3.org/2001/XMLSchema#date> .\n')
    b = build_into(tmp_path, data=data)
    c = make_app(b).test_client()
    import pyoxigraph as ox

    from lod.store import EmbeddedStore
    st = EmbeddedStore(b.store)
    who = next(q.subject.value for q in st.oxigraph.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), ox.NamedNode(f"http://www.wikidata.org/entity/{qid}"),
        None))
    page = c.get(who.replace(BASE, "/").replace("/id/", "/data/", 1) + ".html").get_data(as_text=True)
    assert '<dd class="born">1898-11-24</dd>' in page and '<dd class="died">1969-11-12</dd>' in page
    assert f'href="http://www.wikidata.org/entity/{qid}"' in page


EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def evil(tmp_path_factory):  # noqa: ANN001, ANN201
    tmp = tmp_path_factory.mktemp("evil")
    data = tmp / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    (data / "records" / "evil.yaml").write_text(yaml.safe_dump({
        "key": "evil", "title": f"Title {EVIL}", "date": "1956-01-01",
        "summary": "Summary </script><img src=x onerror=alert(2)> & more",
        "body": "Liu Shaoqi said <iframe src=javascript:alert(3)></iframe>", "rights": "javascript:alert(4)",
        "source_url": "javascript:alert(5)", "people": ["Liu Shaoqi", "<b onmouseover=alert(6)>Bold</b>"],
    }), encoding="utf-8")
    return build_into(tmp, data=data)


@pytest.mark.parametrize("url", ["/data/document/evil.html", "/", "/browse", "/search?title=%3Cscript%3E"])
def test_untrusted_literals_are_escaped_and_only_http_links(evil, url: str) -> None:  # noqa: ANN001
    page = make_app(evil).test_client().get(url).get_data(as_text=True)
    assert "Title" in page or url == "/search?title=%3Cscript%3E"
    body = re.sub(r'<script type="application/ld\+json">.*?</script>', "", page, flags=re.S)
    for raw in ("<script>", "<img src=x", "<iframe", "<b onmouseover"):
        assert raw not in body, (url, raw)
    assert page.count("<script") == page.count('<script type="application/ld+json">') == 1
    for link in re.findall(r'(?:href|src|action)="([^"]*)"', page):
        # http(s) IRIs, query links and our own path-absolute assets only: never javascript:, data:, //host
        assert link.startswith(("http://", "https://", "?")) or (link.startswith("/") and not link.startswith("//")), link
    assert "javascript:" not in "".join(re.findall(r'href="([^"]*)"', page))


def test_href_and_embed_json() -> None:
    assert href("https://x.org/") == "https://x.org/" and href("HTTP://x") == "HTTP://x"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "file:///etc/passwd", "", None,
                "//evil.example/x", "vbscript:x"):
        assert href(bad) is None, bad
    out = embed_json({"a": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in out and ">" not in out and "&" not in out
    assert json.loads(out) == {"a": "</script><script>alert(1)</script> & <!--"}


def test_stylesheet_is_same_origin_whatever_host_name_reached_the_site(client) -> None:  # noqa: ANN001
    """CSP allows styles from 'self' only: an absolute link to the base URI's host (localhost) would be
    blocked for a reader who opened 127.0.0.1. The link is a path under the base path, and it resolves."""
    import re

    html = client.get("/data/document/116814.html").get_data(as_text=True)
    hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert hrefs and all(h.startswith("/") and not h.startswith("//") for h in hrefs), hrefs
    for h in hrefs:
        r = client.get(h)
        assert r.status_code == 200 and r.mimetype == "text/css"
