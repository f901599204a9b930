"""RDF serialisation of descriptions: Turtle, JSON-LD (with our published @context), RDF/XML, N-Triples.

Turtle, RDF/XML and N-Triples are written by pyoxigraph (fast, Rust), except a document described as
sorted N-Triples lines (lod.nt_lines): served as they are, or as Turtle laid out like pyoxigraph's
without parsing them first (:func:`serialize_lines`). JSON-LD is written here in a
compact form against ``{base}context.jsonld`` (prefix definitions only), because pyoxigraph writes
expanded JSON-LD and a compact document is what people read. Nothing here ever fetches a context:
the context is ours and is served by the web layer from :func:`context_document`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from lod.mapping.namespaces import PREFIXES as MAPPING_PREFIXES

FOAF = "http://xmlns.com/foaf/0.1/"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
HYDRA = "http://www.w3.org/ns/hydra/core#"
SCHEMA = "https://schema.org/"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

PREFIXES: dict[str, str] = {**MAPPING_PREFIXES, "foaf": FOAF, "void": VOID, "dcat": DCAT, "hydra": HYDRA,
                            "schema": SCHEMA}
BY_NAMESPACE = {ns: p for p, ns in PREFIXES.items()}
assert all(ns.endswith(("/", "#")) for ns in BY_NAMESPACE), "compact() cuts IRIs at / and #"


@dataclass(frozen=True)
class Format:
    name: str          # "turtle"
    ext: str           # "ttl"
    media_type: str    # "text/turtle"
    label: str         # "Turtle"
    rdf: ox.RdfFormat | None  # None: not written by pyoxigraph


FORMATS: tuple[Format, ...] = (
    Format("turtle", "ttl", "text/turtle", "Turtle", ox.RdfFormat.TURTLE),
    Format("jsonld", "jsonld", "application/ld+json", "JSON-LD", None),
    Format("rdfxml", "rdf", "application/rdf+xml", "RDF/XML", ox.RdfFormat.RDF_XML),
    Format("ntriples", "nt", "application/n-triples", "N-Triples", ox.RdfFormat.N_TRIPLES),
    Format("html", "html", "text/html", "HTML", None),
)
BY_EXT: dict[str, Format] = {f.ext: f for f in FORMATS}
BY_MEDIA_TYPE: dict[str, Format] = {f.media_type: f for f in FORMATS}
RDF_FORMATS = tuple(f for f in FORMATS if f.name != "html")


@lru_cache(maxsize=16384)
def compact(iri: str) -> str:
    """``crm:P67_refers_to`` for an IRI in one of our namespaces, else the IRI itself (remembered: the
    same predicates, classes and people recur in every description).

    Every namespace ends with / or #, so the candidates are the IRI cut after each of those, longest
    first (a namespace that extends another wins): a few dictionary lookups, not one test per prefix."""
    end = len(iri)
    while True:
        end = max(iri.rfind("/", 0, end), iri.rfind("#", 0, end))
        if end < 0:
            return iri
        prefix = BY_NAMESPACE.get(iri[:end + 1])
        if prefix is not None:
            local = iri[end + 1:]
            return f"{prefix}:{local}" if local and not local.startswith("//") else iri


def context_document() -> dict[str, object]:
    """The published JSON-LD context: our prefixes. Served at ``{base}context.jsonld``."""
    return {"@context": {p: ns for p, ns in PREFIXES.items()}}


def _term_id(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else "_:" + term.value


def _value(term: object) -> object:
    if isinstance(term, ox.NamedNode | ox.BlankNode):
        return {"@id": _term_id(term)}
    assert isinstance(term, ox.Literal)
    if term.language:
        return {"@value": term.value, "@language": term.language}
    dt = term.datatype.value
    if dt == XSD_STRING:
        return term.value
    return {"@value": term.value, "@type": compact(dt)}


def jsonld_object(triples: Iterable[ox.Triple], context: str | dict[str, object]) -> dict[str, object]:
    """Compact JSON-LD: one node object per subject, properties as compact IRIs, sorted (stable bytes)."""
    nodes: dict[str, dict[str, list[object]]] = {}
    types: dict[str, list[str]] = {}
    for t in triples:
        sid = _term_id(t.subject)  # type: ignore[arg-type]
        props = nodes.setdefault(sid, {})
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            types.setdefault(sid, []).append(compact(t.object.value))
            continue
        props.setdefault(compact(t.predicate.value), []).append(_value(t.object))
    graph = []
    for sid in sorted(nodes):
        node: dict[str, object] = {"@id": sid}
        if sid in types:
            ts = sorted(set(types[sid]))
            node["@type"] = ts[0] if len(ts) == 1 else ts
        for key in sorted(nodes[sid]):
            vals = nodes[sid][key]
            vals.sort(key=lambda v: json.dumps(v, sort_keys=True, ensure_ascii=False))
            node[key] = vals[0] if len(vals) == 1 else vals
        graph.append(node)
    return {"@context": context, "@graph": graph}


def serialize(triples: list[ox.Triple], fmt: Format, *, context_url: str) -> bytes:
    """Bytes of ``triples`` in an RDF format (not HTML: see lod.web.html)."""
    if fmt.name == "jsonld":
        return json.dumps(jsonld_object(triples, context_url), ensure_ascii=False, indent=1).encode()
    if fmt.rdf is None:
        raise ValueError(f"{fmt.label} is not an RDF serialisation")
    # grouped by subject (pyoxigraph abbreviates consecutive triples only), blank nodes last
    ordered = sorted(triples, key=lambda t: (isinstance(t.subject, ox.BlankNode), t.subject.value))
    prefixes = used_prefixes(ordered) if fmt.rdf is not ox.RdfFormat.N_TRIPLES else None
    return ox.serialize(ordered, format=fmt.rdf, prefixes=prefixes)


def serialize_lines(nt: bytes, fmt: Format) -> bytes:
    """Bytes of sorted N-Triples lines (lod.nt_lines.merge) in an RDF format other than JSON-LD: already
    grouped by subject, so written as they come, straight from the parser."""
    if fmt.rdf is ox.RdfFormat.N_TRIPLES:
        return nt
    if fmt.rdf is ox.RdfFormat.TURTLE:
        from lod.nt_lines import turtle

        return turtle(nt)
    if fmt.rdf is None:
        raise ValueError(f"{fmt.label} is not written from N-Triples lines")
    prefixes = {p: ns for p, ns in PREFIXES.items() if p == "rdf" or _MARKS[p] in nt}
    return ox.serialize(ox.parse(nt, ox.RdfFormat.N_TRIPLES), format=fmt.rdf, prefixes=prefixes)


def used_prefixes(triples: list[ox.Triple]) -> dict[str, str]:
    """Only the prefixes the triples use, so short documents stay short. Found in their N-Triples,
    which pyoxigraph writes faster than Python walks the terms (a namespace that only appears inside a
    literal's text is declared needlessly: harmless)."""
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    return {p: ns for p, ns in PREFIXES.items() if p == "rdf" or _MARKS[p] in nt}


_MARKS = {p: ("<" + ns).encode() for p, ns in PREFIXES.items()}
