"""Record -> CIDOC-CRM 7.1.3 + Dublin Core quads, one named graph per record (docs/mapping.md).

The hot path emits pyoxigraph Quads directly: no rdflib Graph, fixed terms built once
(namespaces.py), entity IRIs cached across records by a long-lived :class:`Mapper`.
Names are resolved against the authority at mapping time; a name the authority does not know is
minted as a stable slug entity (never dropped) and reported as a warning.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyoxigraph as ox

from lod import dates, names
from lod.mapping import namespaces as ns
from lod.mapping.namespaces import LABEL, TYPE
from lod.records import Record, RecordError
from lod.uris import Minter, slugify

KIND_CLASS = {"person": ns.crm.E21_Person, "place": ns.crm.E53_Place, "organization": ns.crm.E74_Group}
ACTOR_KINDS = ("person", "organization")
class AuthorityLike(Protocol):
    """The part of lod.authority.Authority the mapping uses."""

    entities: dict[str, Any]

    def resolve(self, name: str, kind: str | None = None) -> Any: ...
    def find_mentions(self, text: str) -> list[tuple[Any, int, int]]: ...


def guess_kind(name: str, default: str = "person") -> str:
    """Kind for a name the authority does not know: a person slot may hold an organisation's name."""
    return names.guess_kind(name) if default == "person" else default


Spo = tuple[ox.NamedNode, ox.NamedNode, "ox.NamedNode | ox.Literal"]


def spo(statements: Iterable[Any]) -> list[Spo]:
    """(subject, predicate, object) of each statement: a mapper's tuples as they are, pyoxigraph quads
    and triples taken apart."""
    return [x if x.__class__ is tuple else (x.subject, x.predicate, x.object) for x in statements]


@dataclass
class Mapped:
    """One record's mapping: its statements, what the curator should hear about, and its OAI sets.

    The statements are kept as the (subject, predicate, object) terms the mapper made. Why: each read
    of a pyoxigraph quad's ``subject`` builds a new Python object, and the build reads every statement
    in five passes (validation, checksum, names, OAI view, statistics); ``quads`` is made only when asked."""

    key: str
    triples: list[Spo]
    graph: ox.NamedNode
    warnings: list[str] = field(default_factory=list)
    sets: dict[str, str] = field(default_factory=dict)     # set_spec -> name
    unknown: list[Any] = field(default_factory=list)       # entities minted for unknown names

    @functools.cached_property
    def quads(self) -> list[ox.Quad]:
        g = self.graph
        return [ox.Quad(s, p, o, g) for s, p, o in self.triples]


class Out:
    """Quads of one record graph, plus the entities and concepts that need a stub in it."""

    __slots__ = ("g", "triples", "entities", "concepts", "warnings", "key", "unknown")

    def __init__(self, graph: ox.NamedNode, key: str) -> None:
        self.g = graph
        self.key = key
        self.triples: list[Spo] = []
        self.entities: dict[str, tuple[ox.NamedNode, Any]] = {}
        self.concepts: dict[str, tuple[ox.NamedNode, tuple[Spo, ...]]] = {}
        self.warnings: list[str] = []
        self.unknown: list[Any] = []

    def add(self, s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        self.triples.append((s, p, o))

    def warn(self, field_name: str, message: str) -> None:
        text = f"record {self.key}, field {field_name}: {message}"
        if text not in self.warnings:
            self.warnings.append(text)


class Mapper:
    """Maps many records with one authority and minter; caches resolved names and IRIs between records."""

    def __init__(self, authority: AuthorityLike, minter: Minter) -> None:
        self.authority = authority
        self.minter = minter
        self.dataset = ox.NamedNode(minter.dataset)
        self._names: dict[tuple[str, str | None], tuple[ox.NamedNode, Any, bool]] = {}
        self._terms: dict[tuple[str, str], ox.NamedNode] = {}
        self.unknown_entities: dict[str, Any] = {}
        self._unknown_by_label: dict[tuple[str, str], Any] = {}
        self._entity_nodes: dict[tuple[str, str], ox.NamedNode] = {}
        self._stubs: dict[str, tuple[ox.Literal, ox.NamedNode]] = {}

    # ---------------------------------------------------------------- terms and entities
    def term(self, scheme: str, local: str) -> ox.NamedNode:
        k = (scheme, local)
        node = self._terms.get(k)
        if node is None:
            node = self._terms[k] = ox.NamedNode(self.minter.term(scheme, local))
        return node

    def entity(self, out: Out, name: str, field_name: str, *, kind: str | None = None,
               default_kind: str = "person") -> tuple[ox.NamedNode, Any] | None:
        """Resolve a name to an authority entity (minting an unknown one); record it for the stub."""
        name = " ".join(name.split())
        if not name:
            return None
        hit = self._names.get((name, kind))
        if hit is None:
            ent = self.authority.resolve(name, kind=kind)
            unknown = ent is None
            if unknown:
                ent = self._mint_unknown(name, kind or guess_kind(name, default_kind))
            hit = self._names[(name, kind)] = (self.node_of(ent), ent, unknown)
        node, ent, unknown = hit
        if unknown:
            if ent not in out.unknown:
                out.unknown.append(ent)
            out.warn(field_name, f"{ent.kind} {name!r} is not in the authority file; published as "
                                 f"{node.value} without a Wikidata link")
        out.entities[node.value] = (node, ent)
        return node, ent

    def _mint_unknown(self, name: str, kind: str) -> Any:
        """A stable slug entity for a name the authority lacks, kept out of the authority itself.

        The id depends on the name alone, never on which records came first (builds map records in
        parallel): the slug of the parsed label, or, when the authority already uses that slug for
        another entity, the slug plus a short hash of the label. Names that differ only in what the
        slug drops ("Kenzō"/"Kenzo") share the id; each record's stub keeps its own label, and the
        build merges the labels (:func:`merge_unknown`). The authority file is never changed.
        """
        from lod.authority import Entity

        parsed = names.parse_name(name, kind)
        key = (parsed.label, kind)
        ent = self._unknown_by_label.get(key)
        if ent is None:
            ident = slugify(parsed.label)
            if ident in self.authority.entities:
                ident = f"{ident}-{hashlib.sha1(parsed.label.encode()).hexdigest()[:6]}"
            ent = Entity(id=ident, label=parsed.label, kind=kind,
                         variants=[v for v in parsed.variants if v != parsed.label],
                         evidence="not in the authority file: minted by lod build from a record; no Wikidata link")
            self._unknown_by_label[key] = ent
            self.unknown_entities.setdefault(ident, ent)
        return ent

    def node_of(self, ent: Any) -> ox.NamedNode:
        node = self._entity_nodes.get((ent.kind, ent.id))
        if node is None:
            node = self._entity_nodes[(ent.kind, ent.id)] = ox.NamedNode(self.minter.entity(ent.kind, ent.id))
        return node

    def actor(self, out: Out, name: str, field_name: str) -> tuple[ox.NamedNode, Any] | None:
        """An entity in an actor slot (P14/P11); a place found there is reported, not forced."""
        hit = self.entity(out, name, field_name)
        if hit and hit[1].kind not in ACTOR_KINDS:
            out.warn(field_name, f"{name!r} resolves to a {hit[1].kind}, not a person or organisation; "
                                 "published as referred to (crm:P67_refers_to) only")
            return None
        return hit

    def mentions(self, text: str) -> list[Any]:
        """Authority entities mentioned in free text (body, summary), in text order."""
        if not text:
            return []
        return [m[0] for m in self.authority.find_mentions(text)]

    def concept(self, out: Out, scheme: str, label: str) -> ox.NamedNode:
        """A term of a record-driven scheme (subject, classification); stubbed in the record graph."""
        node = self.term(scheme, slugify(label))
        if node.value not in out.concepts:
            stub = self._stubs.get(node.value)
            if stub is None:
                stub = (ox.Literal(label, language="en"), ox.NamedNode(self.minter.vocab + scheme))
                self._stubs[node.value] = stub
            lit, scheme_node = stub
            out.concepts[node.value] = (node, (
                (node, TYPE, ns.skos.Concept),
                (node, TYPE, ns.crm.E89_Propositional_Object),   # see vocab.CONCEPT_IS_E89
                (node, ns.skos.prefLabel, lit),
                (node, ns.skos.inScheme, scheme_node)))
        return node

    def language(self, out: Out, name: str, field_name: str) -> tuple[ox.NamedNode, str | None]:
        """Language concept for a name ('Russian'); unknown names get a slug term and a warning."""
        from lod.mapping.vocab import LANGUAGE_NAMES, language_code

        code = language_code(name)
        local = code or slugify(name)
        node = self.term("language", local)
        if node.value not in out.concepts:
            label = LANGUAGE_NAMES.get(code, name.strip()) if code else name.strip()
            out.concepts[node.value] = (node, (
                (node, TYPE, ns.crm.E56_Language),
                (node, LABEL, ox.Literal(label, language="en"))))
        if code is None:
            out.warn(field_name, f"language {name!r} has no ISO 639-1 code in lod/mapping/vocab.py; "
                                 f"published as {node.value}")
        return node, code

    # ---------------------------------------------------------------- records
    def map(self, record: Record) -> Mapped:
        """All quads of one record's graph; raises RecordError for facts that cannot be mapped."""
        from lod.mapping.crm import map_crm, record_sets
        from lod.mapping.dc import map_dc

        out = Out(ox.NamedNode(self.minter.record_graph(record.key)), record.key)
        nodes = map_crm(self, out, record)
        map_dc(self, out, record, nodes)
        for node, ent in out.entities.values():
            out.triples.append((node, TYPE, KIND_CLASS.get(ent.kind, ns.crm.E74_Group)))
            out.triples.append((node, LABEL, ox.Literal(ent.label)))
            qid = ent.published_qid()
            if qid:
                out.triples.append((node, ns.owl.sameAs, ox.NamedNode(ns.WD + qid)))
        for _node, stub in out.concepts.values():
            out.triples.extend(stub)
        triples = list(dict.fromkeys(out.triples))   # a person both present and a participant: one triple
        return Mapped(record.key, triples, out.g, out.warnings, record_sets(self, out, record, nodes),
                      out.unknown)


def merge_unknown(entities: Iterable[Any]) -> dict[str, Any]:
    """Entities minted for unknown names (from any number of mappers) merged by id, deterministically:
    the smallest label is the label, the others become variants."""
    from lod.authority import Entity

    by_id: dict[str, list[Any]] = {}
    for ent in entities:
        by_id.setdefault(ent.id, []).append(ent)
    merged = {}
    for ident, ents in sorted(by_id.items()):
        labels = sorted({e.label for e in ents})
        variants = sorted({v for e in ents for v in e.variants} | set(labels[1:]) - {labels[0]})
        first = min(ents, key=lambda e: e.label)
        merged[ident] = Entity(id=ident, label=labels[0], kind=first.kind, variants=variants, evidence=first.evidence)
    return merged


def map_record(record: Record, authority: AuthorityLike, minter: Minter) -> list[ox.Quad]:
    """The quads of ``record``'s named graph (see docs/mapping.md)."""
    return Mapper(authority, minter).map(record).quads


def span_literals(iso: str, *, record: str, field_name: str) -> tuple[ox.Literal, ox.Literal]:
    """xsd:dateTime bounds covering the whole period of an ISO date of any precision."""
    try:
        begin, end = dates.span(iso)
    except dates.DateError as exc:
        raise RecordError(str(exc), record=record, field=field_name) from None
    return (ox.Literal(begin + "T00:00:00", datatype=ns.xsd.dateTime),
            ox.Literal(end + "T23:59:59", datatype=ns.xsd.dateTime))


def date_literal(iso: str) -> ox.Literal:
    """dcterms:date value typed by precision: xsd:date, xsd:gYearMonth or xsd:gYear."""
    n = iso.count("-")
    dt = ns.xsd.date if n == 2 else ns.xsd.gYearMonth if n == 1 else ns.xsd.gYear
    return ox.Literal(iso, datatype=dt)


def authority_quads(authority: AuthorityLike, minter: Minter, extra: Iterable[Any] = ()) -> Iterator[ox.Quad]:
    """The authority graph: full entity descriptions, name variants and published Wikidata links.

    ``extra``: entities minted for unknown names during mapping (:attr:`Mapper.unknown_entities`).
    """
    g = ox.NamedNode(minter.authority_graph)
    for ent in sorted([*authority.entities.values(), *extra], key=lambda e: (e.kind, e.id)):
        node = ox.NamedNode(minter.entity(ent.kind, ent.id))
        yield ox.Quad(node, TYPE, KIND_CLASS.get(ent.kind, ns.crm.E74_Group), g)
        yield ox.Quad(node, LABEL, ox.Literal(ent.label), g)
        yield ox.Quad(node, ns.skos.prefLabel, ox.Literal(ent.label), g)
        for v in sorted(set(ent.variants or ()) - {ent.label}):
            yield ox.Quad(node, ns.skos.altLabel, ox.Literal(v), g)
        if getattr(ent, "description", ""):
            yield ox.Quad(node, ns.crm.P3_has_note, ox.Literal(ent.description, language="en"), g)
        qid = ent.published_qid()
        if qid:
            yield ox.Quad(node, ns.owl.sameAs, ox.NamedNode(ns.WD + qid), g)
        if ent.kind == "person":
            for what, value, prop, cls in (("birth", getattr(ent, "birth", ""), ns.crm.P98i_was_born, ns.crm.E67_Birth),
                                           ("death", getattr(ent, "death", ""), ns.crm.P100i_died_in, ns.crm.E69_Death)):
                if not value:
                    continue
                try:
                    begin, end = span_literals(value, record=ent.id, field_name=what)
                except RecordError:
                    continue  # an unreadable life date stays in the authority file, unpublished
                ev = ox.NamedNode(minter.thing("event", f"{ent.id}-{what}"))
                ts = ox.NamedNode(minter.timespan(ent.id, what))
                yield ox.Quad(node, prop, ev, g)
                yield ox.Quad(ev, TYPE, cls, g)
                yield ox.Quad(ev, ns.P4_TIME_SPAN, ts, g)
                yield ox.Quad(ts, TYPE, ns.E52_TIME_SPAN, g)
                yield ox.Quad(ts, LABEL, ox.Literal(value), g)
                yield ox.Quad(ts, ns.crm.P82a_begin_of_the_begin, begin, g)
                yield ox.Quad(ts, ns.crm.P82b_end_of_the_end, end, g)
