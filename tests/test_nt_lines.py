"""lod.nt_lines: reading linked resources off N-Triples lines must agree with parsing them."""

from __future__ import annotations

import pyoxigraph as ox

from lod import nt_lines
from lod.render import PREFIXES

LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"

TRICKY = [
    ox.Triple(ox.NamedNode("http://x/a"), ox.NamedNode(LABEL), ox.Literal("ends like an IRI> <http://x/fake> .")),
    ox.Triple(ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p"), ox.Literal("<http://x/fake2>", language="en")),
    ox.Triple(ox.NamedNode("http://x/b"), ox.NamedNode("http://x/p"),
              ox.Literal("1950", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))),
    ox.Triple(ox.NamedNode("http://x/b"), ox.NamedNode(PREF), ox.Literal("Ulbricht, Walter\nline two")),
    ox.Triple(ox.NamedNode("http://x/c/Đồng"), ox.NamedNode("http://x/p"), ox.NamedNode("http://x/d")),
    ox.Triple(ox.BlankNode("b0"), ox.NamedNode(LABEL), ox.NamedNode("http://x/e")),
    ox.Triple(ox.NamedNode("http://x/f"), ox.NamedNode("http://x/p"), ox.BlankNode("b0")),
    ox.Triple(ox.NamedNode("http://x/f"), ox.NamedNode("http://x/p"), ox.Literal('a"^^<http://x/not-a-type> b')),
    ox.Triple(ox.NamedNode("http://x/f"), ox.NamedNode("http://x/p"),
              ox.Literal("x", datatype=ox.NamedNode("http://x/odd-type/v1.0"))),
]


def test_scan_agrees_with_the_parser() -> None:
    nt = nt_lines.of(TRICKY)
    linked, labelled = nt_lines.scan(nt)
    parsed = [q.triple for q in ox.parse(nt, ox.RdfFormat.N_TRIPLES)]
    assert parsed == TRICKY                                   # written exactly as pyoxigraph writes them
    expect = {t.subject.value for t in parsed if isinstance(t.subject, ox.NamedNode)}
    expect |= {t.object.value for t in parsed if isinstance(t.object, ox.NamedNode)}
    assert linked == expect == {"http://x/a", "http://x/b", "http://x/c/Đồng", "http://x/d", "http://x/e",
                                "http://x/f"}
    assert labelled == {"http://x/a", "http://x/b"}          # not the blank node's label


def test_merge_sorts_and_removes_repeats() -> None:
    first, second = nt_lines.of(TRICKY[:3]), nt_lines.of(TRICKY[2:])
    merged = nt_lines.merge([second, first, b"", b"\n"])
    lines = merged.split(b"\n")
    assert lines[-1] == b"" and lines[:-1] == sorted(set(lines[:-1]))
    assert len(lines) - 1 == len(TRICKY)
    assert lines[-2].startswith(b"_:")                          # blank nodes after IRIs
    assert {q.triple for q in ox.parse(merged, ox.RdfFormat.N_TRIPLES)} == set(TRICKY)
    assert nt_lines.merge([b"", b""]) == b""


def test_empty_graph() -> None:
    assert nt_lines.scan(b"") == (set(), set())
    assert nt_lines.of([]) == b""


def test_turtle_says_what_the_lines_say() -> None:
    triples = TRICKY + [
        ox.Triple(ox.NamedNode("http://www.cidoc-crm.org/cidoc-crm/E5_Event"),
                  ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                  ox.NamedNode("http://www.w3.org/2002/07/owl#Class")),
        ox.Triple(ox.NamedNode("http://purl.org/dc/terms/x"), ox.NamedNode("http://purl.org/dc/terms/date"),
                  ox.Literal("1959-09-30", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
        ox.Triple(ox.NamedNode("http://purl.org/dc/terms/x"), ox.NamedNode("http://purl.org/dc/terms/date"),
                  ox.Literal("1959", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear"))),
        # local parts a prefixed name could not hold without escapes: written as IRIs
        ox.Triple(ox.NamedNode("http://purl.org/dc/terms/a.b"), ox.NamedNode("http://purl.org/dc/terms/"),
                  ox.NamedNode("http://purl.org/dc/terms/1(x)")),
    ]
    nt = nt_lines.merge([nt_lines.of(triples)])
    ttl = nt_lines.turtle(nt)
    assert {q.triple for q in ox.parse(ttl, ox.RdfFormat.TURTLE)} == set(triples)
    text = ttl.decode()
    assert "crm:E5_Event a owl:Class ." in text
    assert 'dcterms:date "1959"^^xsd:gYear , "1959-09-30"^^xsd:date .' in text
    assert "<http://purl.org/dc/terms/a.b> <http://purl.org/dc/terms/> <http://purl.org/dc/terms/1(x)>" in text
    assert "@prefix foaf:" not in text and "@prefix rdf:" not in text         # only what is used
    # the layout is pyoxigraph's own (prefix declarations aside; it escapes odd local parts, we keep IRIs)
    plain = nt_lines.merge([nt_lines.of(triples[:-1])])
    ours = [line for line in nt_lines.turtle(plain).decode().splitlines() if not line.startswith("@prefix")]
    theirs = ox.serialize(ox.parse(plain, ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.TURTLE,
                          prefixes=PREFIXES)
    assert ours == [line for line in theirs.decode().splitlines() if not line.startswith("@prefix")]
    assert nt_lines.turtle(b"") == b""
