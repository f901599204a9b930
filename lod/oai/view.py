"""How a metadata format sees one record: a :class:`RecordView` over a source of its statements.

:class:`StoreSource` reads the published store (one ``quads_for_pattern`` per subject, no SPARQL);
:class:`MemorySource` reads the quads the build just mapped (lod.oai.prepared). Both give the same
statements, and every choice (which label, value order) is made on sorted values, so the two paths
write byte-identical XML.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyoxigraph as ox

from lod.mapping import spo

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DC = "http://purl.org/dc/elements/1.1/"
DCT = "http://purl.org/dc/terms/"
DCMITYPE = "http://purl.org/dc/dcmitype/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
EDM = "http://www.europeana.eu/schemas/edm/"
ORE = "http://www.openarchives.org/ore/terms/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL = "http://www.w3.org/2002/07/owl#"
CRM = "http://www.cidoc-crm.org/cidoc-crm/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
Term = ox.NamedNode | ox.Literal | ox.BlankNode

LABELS = (SKOS + "prefLabel", RDFS + "label")
TYPE = RDF + "type"
SAME_AS = OWL + "sameAs"
NOTATION = SKOS + "notation"
_LANG_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Drop the characters XML 1.0 cannot carry (form feeds in scanned text, NULs in bad input)."""
    return _NOT_XML.sub("", value) if _NOT_XML.search(value) else value


def _order(term: Term) -> tuple:
    if isinstance(term, ox.Literal):
        return (1, term.value, term.language or "", term.datatype.value)
    return (0 if isinstance(term, ox.NamedNode) else 2, term.value, "", "")


def best_label(candidates: Iterable[tuple[str, ox.Literal]]) -> ox.Literal | None:
    """One label, chosen the same way whatever the read order: skos:prefLabel before rdfs:label,
    English, then untagged, then other languages; ties by text."""
    best = None
    for pred, lit in candidates:
        rank = (LABELS.index(pred), {"en": 0, "": 1}.get(lit.language or "", 2), lit.value, lit.language or "")
        if best is None or rank < best[0]:
            best = (rank, lit)
    return best[1] if best else None


# ----------------------------------------------------------------------------------- sources
class Source(Protocol):
    def statements(self, subject: str) -> dict[str, list[Term]]: ...      # predicate -> objects, record graph
    def vocabulary(self, iri: str) -> list[tuple[str, ox.Literal]]: ...   # labels from the ontology graph
    def quads(self) -> list[ox.Triple]: ...                                # the whole record graph


class StoreSource:
    """A record graph in the published store; vocabulary labels from the ontology graph, cached per page."""

    def __init__(self, store: ox.Store, graph: str, ontology: str, cache: dict | None = None) -> None:
        self.store, self.graph, self.ontology = store, ox.NamedNode(graph), ox.NamedNode(ontology)
        self.cache = cache if cache is not None else {}

    def statements(self, subject: str) -> dict[str, list[Term]]:
        out: dict[str, list[Term]] = {}
        for q in self.store.quads_for_pattern(ox.NamedNode(subject), None, None, self.graph):
            out.setdefault(q.predicate.value, []).append(q.object)
        return out

    def vocabulary(self, iri: str) -> list[tuple[str, ox.Literal]]:
        if iri not in self.cache:
            node = ox.NamedNode(iri)
            self.cache[iri] = [(p, q.object) for p in LABELS
                               for q in self.store.quads_for_pattern(node, ox.NamedNode(p), None, self.ontology)
                               if isinstance(q.object, ox.Literal)]
        return self.cache[iri]

    def quads(self) -> list[ox.Triple]:
        return [q.triple for q in self.store.quads_for_pattern(None, None, None, self.graph)]


class MemorySource:
    """The statements of one record graph as the build mapped them (no store read): quads, triples or
    a mapper's (subject, predicate, object) tuples."""

    def __init__(self, statements: Iterable[Any], vocabulary: dict[str, list[tuple[str, ox.Literal]]]) -> None:
        self._triples = spo(statements)
        self.index: dict[str, dict[str, list[Term]]] = {}
        for s, p, o in self._triples:
            self.index.setdefault(s.value, {}).setdefault(p.value, []).append(o)
        self.vocab = vocabulary

    def statements(self, subject: str) -> dict[str, list[Term]]:
        return self.index.get(subject, {})

    def vocabulary(self, iri: str) -> list[tuple[str, ox.Literal]]:
        return self.vocab.get(iri, [])

    def quads(self) -> list[ox.Triple]:
        return [ox.Triple(s, p, o) for s, p, o in self._triples]


def vocabulary_labels(quads: Iterable[ox.Quad]) -> dict[str, list[tuple[str, ox.Literal]]]:
    """Labels in the ontology graph's quads, for MemorySource."""
    out: dict[str, list[tuple[str, ox.Literal]]] = {}
    for q in quads:
        if q.predicate.value in LABELS and isinstance(q.object, ox.Literal):
            out.setdefault(q.subject.value, []).append((q.predicate.value, q.object))
    return out


@dataclass
class RecordView:
    """A document's statements with labels, types and links for the IRIs it uses."""

    source: Source
    document: str
    props: dict[str, list[Term]] = field(default_factory=dict)
    _entities: dict[str, dict[str, list[Term]]] = field(default_factory=dict)

    @classmethod
    def read(cls, source: Source, document: str) -> RecordView:
        return cls(source, document, source.statements(document))

    def values(self, *predicates: str) -> list[Term]:
        out: set[Term] = set()
        for p in predicates:
            out.update(v for v in self.props.get(p, ()) if not isinstance(v, ox.BlankNode))
        return sorted(out, key=_order)

    def about(self, iri: str) -> dict[str, list[Term]]:
        if iri not in self._entities:
            self._entities[iri] = self.source.statements(iri)
        return self._entities[iri]

    def label(self, iri: str) -> ox.Literal | None:
        """The record graph's label (it stubs every entity and concept it uses), else the vocabulary's."""
        st = self.about(iri)
        found = best_label((p, o) for p in LABELS for o in st.get(p, ()) if isinstance(o, ox.Literal))
        return found if found is not None else best_label(self.source.vocabulary(iri))

    def types(self, iri: str) -> set[str]:
        return {o.value for o in self.about(iri).get(TYPE, ())}

    def same_as(self, iri: str) -> list[str]:
        return sorted(o.value for o in self.about(iri).get(SAME_AS, ()) if isinstance(o, ox.NamedNode))

    def text(self, term: Term, *, keep_iri: bool = False) -> tuple[str, str]:
        """(text, language) of a value: literals as written, IRIs by their label unless ``keep_iri``."""
        if isinstance(term, ox.Literal):
            return xml_text(term.value), term.language or ""
        if not keep_iri:
            lab = self.label(term.value)
            if lab is not None:
                return xml_text(lab.value), lab.language or ""
            if term.value.startswith(DCMITYPE):
                return term.value[len(DCMITYPE):], ""
        return xml_text(term.value), ""

    def language_code(self, term: Term) -> str:
        """ISO 639 code: a literal as written, a concept by skos:notation or its IRI's last segment."""
        if isinstance(term, ox.Literal):
            return xml_text(term.value)
        notes = sorted(o.value for o in self.about(term.value).get(NOTATION, ()))
        if notes:
            return xml_text(notes[0])
        last = term.value.rstrip("/").rsplit("/", 1)[-1]
        return last if _LANG_CODE.match(last) else xml_text(term.value)


@dataclass(frozen=True)
class Context:
    """What a format needs besides the record: the publisher's facts."""

    publisher: str
    edm_rights: str
    landing_page: Callable[[str], str]     # document IRI -> its HTML page
