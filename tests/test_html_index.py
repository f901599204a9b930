"""The index an HTML page is made from (lod.web.html_index): read off N-Triples lines, it must give what
pyoxigraph's parse gives (values, languages, order), and the JSON-LD lod.render writes, byte for byte."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import BASE, make_app
from markupsafe import escape

from lod import nt_lines
from lod.render import jsonld_object
from lod.web import html, html_index
from lod.web.html import Index, embed_json

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
XSD = "http://www.w3.org/2001/XMLSchema#"
CONTEXT = BASE + "context.jsonld"

TEXTS = ['plain', 'a "quoted" word', "back\\slash", "line\nbreak\r\n\ttab", "\x01\x1f\x7f\b\f control",
         "</script><!-- & <b>", "Đồng 刘少奇 \u2028 \u0085 \ufeff 😀", "it's", "\\u0041 not an escape", "", " "]


def tricky_triples() -> list[ox.Triple]:
    s, other = ox.NamedNode("http://x.org/s"), ox.NamedNode("http://x.org/s/o")
    blank = ox.BlankNode("b1")
    out = [ox.Triple(s, RDF_TYPE, ox.NamedNode("http://www.cidoc-crm.org/cidoc-crm/E31_Document")),
           ox.Triple(s, RDF_TYPE, ox.NamedNode("http://x.org/Class")),
           ox.Triple(s, RDF_TYPE, ox.Literal("a literal type")),
           ox.Triple(other, RDF_TYPE, ox.NamedNode("http://x.org/Class")),
           ox.Triple(blank, LABEL, ox.Literal("blank")),
           ox.Triple(s, ox.NamedNode("http://x.org/p"), blank)]
    token, custom = ox.NamedNode(XSD + "token"), ox.NamedNode("urn:dt")
    for i, text in enumerate(TEXTS):
        out += [ox.Triple(s, LABEL, ox.Literal(text)),
                ox.Triple(s, LABEL, ox.Literal(text, language="en-GB" if i % 2 else "de")),
                ox.Triple(other, ox.NamedNode(f"http://x.org/p{i}"), ox.Literal(text, datatype=token)),
                ox.Triple(other, ox.NamedNode("http://x.org/q"), ox.Literal(text, datatype=custom))]
    # IRIs one of which extends another: "…/a" sorts before "…/a!" as text, after it as N-Triples and JSON
    subject, n = ox.NamedNode("http://purl.org/dc/terms/subject"), ox.NamedNode("http://x.org/n")
    for iri in ("http://x.org/a", "http://x.org/a!", "http://x.org/a/b", "http://x.org/a%20b"):
        out.append(ox.Triple(s, subject, ox.NamedNode(iri)))
    out += [ox.Triple(s, n, ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))),
            ox.Triple(s, n, ox.Literal("x", datatype=ox.NamedNode(XSD + "string"))),
            ox.Triple(s, n, ox.NamedNode("http://x.org/a"))]
    return out


def as_index(triples: list[ox.Triple], *, shuffled: bool = True) -> Index:
    lines = nt_lines.of(triples).split(b"\n")
    if shuffled:
        lines.reverse()
    return Index(b"\n".join(lines))


def test_pyoxigraph_escapes_every_control_character() -> None:
    """The fast paths copy N-Triples text into JSON: they rely on no raw control character in it."""
    for c in [*range(0x20), 0x7F]:
        written = str(ox.Literal(chr(c)))
        assert all(ord(ch) >= 0x20 for ch in written), (c, written)


def test_embedded_json_ld_is_lod_render_byte_for_byte() -> None:
    triples = tricky_triples()
    assert as_index(triples).jsonld(CONTEXT) == embed_json(jsonld_object(triples, CONTEXT))
    assert as_index(triples[:1]).jsonld(CONTEXT) == embed_json(jsonld_object(triples[:1], CONTEXT))
    assert Index(b"").jsonld(CONTEXT) == embed_json(jsonld_object([], CONTEXT))


def test_values_and_order_are_pyoxigraphs() -> None:
    triples = tricky_triples()
    ix = as_index(triples)
    for s in {t.subject.value for t in triples}:
        for p in {t.predicate.value for t in triples if t.subject.value == s}:
            objs = sorted((t.object for t in triples if (t.subject.value, t.predicate.value) == (s, p)),
                          key=str)
            assert ix.objs(s, p) == [str(o) for o in objs]
            assert ix.iris(s, p) == [o.value for o in objs if isinstance(o, ox.NamedNode)]
            assert ix.literals(s, p) == [o.value for o in objs if isinstance(o, ox.Literal)]
            lits = sorted((o for o in objs if isinstance(o, ox.Literal)),
                          key=lambda o: (o.language not in (None, "en"), o.value))
            assert ix.text(s, p) == (lits[0].value if lits else "")
            assert [html_index.term(o) for o in ix.objs(s, p)] == [
                (o.value, o.language if isinstance(o, ox.Literal) else None) for o in objs]
    assert ix.subjects(RDF_TYPE.value, "http://x.org/Class") == ["http://x.org/s", "http://x.org/s/o"]
    assert ix.subjects(RDF_TYPE.value, "http://x.org/none") == [] and ix.objs("http://nothing", "p") == []


def test_runs_are_kept_once_seen_twice_and_give_the_same_page() -> None:
    triples = tricky_triples()
    first = as_index(triples).jsonld(CONTEXT)
    for _ in range(3):
        ix = as_index(triples, shuffled=False)
        assert ix.jsonld(CONTEXT) == first
        assert ix.label("http://x.org/s") == ix.label("http://x.org/s")
    assert any("http://x.org/s/o" in run for run in html_index._RUNS)


def test_lines_that_are_not_n_triples_are_refused() -> None:
    with pytest.raises(ValueError):
        Index(b"<http://x.org/s> <http://x.org/p> .\n")
    triple = b"<http://x.org/s> <http://x.org/p> <http://x.org/o>"
    for quoted in (b"<< " + triple + b" >> <http://x.org/p> <http://x.org/o> .\n",
                   b"<http://x.org/s> <http://x.org/p> <<( " + triple + b" )>> .\n"):
        with pytest.raises(ValueError):
            Index(quoted)


def test_escape_and_link_html_are_jinjas(app) -> None:  # noqa: ANN001
    for text in TEXTS + ["<a href='x'>&amp;\"</a>"]:
        assert html._esc(text) == str(escape(text))
    macro = app.jinja_env.get_template("_macros.html").make_module({"href": html.href}).link
    for e in [{"iri": "http://x/1", "href": "http://x/1", "label": "A <b> & 'c'", "wikidata": None},
              {"iri": "urn:x", "href": None, "label": 'Q"', "wikidata": "http://www.wikidata.org/entity/Q1"},
              {"iri": "http://x/2", "href": "http://x/2?a=1&b=2", "label": "L",
               "wikidata": "javascript:alert(1)"}]:
        assert html.link_html(e) == str(macro(e))


def test_every_bundled_description_indexes_as_pyoxigraph_parses_it(built) -> None:  # noqa: ANN001
    from lod.web.resources import state
    app = make_app(built)
    with app.test_request_context("/"):
        describer = state().describer
        quads = app.config["LOD_STORE"].oxigraph.quads_for_pattern(None, None, None)
        things = sorted({q.subject.value for q in quads
                         if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(BASE + "id/")})
        assert len(things) > 100
        for iri in things:
            desc = describer.describe(iri)
            if desc is None:
                continue
            ix = Index.of(desc)
            assert ix.jsonld(CONTEXT) == embed_json(jsonld_object(desc.triples, CONTEXT)), iri
            for t in desc.triples:
                assert str(t.object) in ix.objs(t.subject.value, t.predicate.value), (iri, t)
