"""Dataset statistics (VoID counts: triples, classes, entities, documents, people, Wikidata links),
tallied while the build writes each graph, so that the home page, VoID and DCAT never scan the store.

Why: counted with SPARQL over the published store (:func:`scan`), they took 26 s at 10,000 records and
grow with the store (the entity count reads every quad and decodes every subject), and each server
process paid that on its first home page. The build sees every triple once anyway.

How the counts stay exact without holding a million records' subjects in memory: IRIs under
``{base}id/{kind}/`` of a kind other than the shared entities (people, places, organisations, groups)
are minted from a record's key (lod.uris.Minter), so they occur in that record's graph only, as do its
blank nodes; those are counted per record, in the build's workers. Every other subject (entities,
vocabulary terms, the shared graphs) is collected in sets and counted once. ``tests/test_statistics.py``
checks every count against :func:`scan` on built stores.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import pyoxigraph as ox

from lod.mapping import spo
from lod.naming import ENTITY_KINDS, WIKIDATA

KINDS = ("document", *ENTITY_KINDS)
TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
CRM = "http://www.cidoc-crm.org/cidoc-crm/"
_REFERS, _DOCUMENTS, _PARTICIPANT = (ox.NamedNode(CRM + p) for p in ("P67_refers_to", "P70_documents",
                                                                    "P11_had_participant"))
_TYPE_TOKEN = f" <{TYPE}> <"
_SAME_AS_TOKEN = f" <{SAME_AS}> <{WIKIDATA}"


@dataclass
class Stats:
    triples: int
    documents: int
    entities: int
    classes: dict[str, int]
    linksets: dict[str, int]          # entity kind -> owl:sameAs links to Wikidata
    people: int = 0
    kinds: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Stats:
        return cls(**json.loads(text))


@dataclass
class RecordTally:
    """One record graph's share, computed in a build worker (plain data: it is pickled back)."""

    quads: int = 0
    classes: dict[str, int] = field(default_factory=dict)   # class -> its subjects local to the record
    entities: int = 0                                         # local subjects under {base}id/
    kinds: dict[str, int] = field(default_factory=dict)     # kind -> local typed subjects under id/{kind}/
    shared_types: list[tuple[str, str]] = field(default_factory=list)
    shared_ids: list[str] = field(default_factory=list)
    shared_links: list[str] = field(default_factory=list)
    mentions: dict[str, int] = field(default_factory=dict)  # IRI -> its documents in this record graph


def mentions(statements: Iterable[Any]) -> dict[str, int]:
    """What the people index counts, within one record graph: for each IRI, the subjects that refer to
    it (crm:P67) or document an event it took part in (crm:P70 / crm:P11). ``statements``: quads,
    triples or a mapper's (subject, predicate, object) tuples."""
    triples = spo(statements)
    documented: dict[Any, set[Any]] = {}
    for s, p, o in triples:
        if p == _DOCUMENTS:
            documented.setdefault(o, set()).add(s)
    by: dict[str, set[Any]] = {}
    for s, p, o in triples:
        if p == _REFERS:
            if isinstance(o, ox.NamedNode):
                by.setdefault(o.value, set()).add(s)
        elif p == _PARTICIPANT and s in documented and isinstance(o, ox.NamedNode):
            by.setdefault(o.value, set()).update(documented[s])
    return {iri: len(docs) for iri, docs in by.items()}


def _kind(iri: str, ids: str) -> str | None:
    """``person`` for ``{ids}person/x``; None outside ``ids``."""
    if not iri.startswith(ids):
        return None
    kind, slash, _ = iri[len(ids):].partition("/")
    return kind if slash else ""


def _local(subject: str, ids: str) -> bool:
    if subject.startswith("_:"):
        return True
    kind = _kind(subject, ids)
    return kind is not None and kind not in ENTITY_KINDS


# One match a line: subject, predicate and, when it is an IRI, object. The leading \n lets re jump from
# line to line; one pass costs ~0.3 ms for a record's ~180 lines.
_LINE = re.compile(r"\n(<[^>]*>|_:\S+) <([^>]*)> (?:<([^>]*)>)?")


def _node(token: str) -> str:
    return token[1:-1] if token[0] == "<" else token


def record_tally(text: str, base: str) -> RecordTally:
    """The tally of one record graph from its N-Triples (one triple per line, as the build writes them)."""
    ids = base + "id/"
    out = RecordTally(quads=text.count("\n"))
    tokens: set[str] = set()
    types: set[tuple[str, str]] = set()
    links: set[str] = set()
    for token, p, o in _LINE.findall("\n" + text):
        tokens.add(token)
        if p == TYPE and o:
            types.add((_node(token), o))
        elif p == SAME_AS and o.startswith(WIKIDATA):
            links.add(_node(token))
    subjects = {_node(t) for t in tokens}
    local = {s for s in subjects if _local(s, ids)}
    out.entities = sum(1 for s in local if s[0] != "_")
    out.shared_ids = sorted(s for s in subjects - local if s.startswith(ids))
    classes: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    typed: set[str] = set()
    for s, c in types:
        if s in local:
            classes[c] += 1
            if s not in typed and s[0] != "_":
                typed.add(s)
                kinds[_kind(s, ids) or ""] += 1
        else:
            out.shared_types.append((s, c))
    out.shared_types.sort()
    out.classes, out.kinds = dict(classes), dict(kinds)
    out.shared_links = sorted(s for s in links if _kind(s, ids) in ENTITY_KINDS)
    return out


def _term(t: Any) -> str:
    return t.value if isinstance(t, ox.NamedNode) else f"_:{t.value}"


class Tally:
    """The build's running total: record tallies plus the quads the build makes itself."""

    def __init__(self, base: str) -> None:
        self.base, self.ids = base, base + "id/"
        self.quads = 0
        self.classes: Counter[str] = Counter()
        self.entities = 0
        self.kinds: Counter[str] = Counter()
        self.shared_types: set[tuple[str, str]] = set()
        self.shared_ids: set[str] = set()
        self.shared_links: set[str] = set()
        self.mentions: Counter[str] = Counter()
        self.labels: dict[str, str] = {}

    def add_record(self, t: RecordTally) -> None:
        self.quads += t.quads
        self.classes.update(t.classes)
        self.entities += t.entities
        self.kinds.update(t.kinds)
        self.shared_types.update(t.shared_types)
        self.shared_ids.update(t.shared_ids)
        self.shared_links.update(t.shared_links)
        self.mentions.update(t.mentions)

    def add_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Quads of a graph the build makes itself (ontology, authority, provenance...): every subject is
        counted once however often it recurs."""
        seen = set(quads)
        self.quads += len(seen)
        for q in seen:
            s, p = _term(q.subject), q.predicate.value
            if p == TYPE and isinstance(q.object, ox.NamedNode | ox.BlankNode):
                self.shared_types.add((s, _term(q.object)))
            elif p == SAME_AS and isinstance(q.object, ox.NamedNode) and q.object.value.startswith(WIKIDATA) \
                    and _kind(s, self.ids) in ENTITY_KINDS:
                self.shared_links.add(s)
            if s.startswith(self.ids):
                self.shared_ids.add(s)

    def add_authority(self, quads: list[ox.Quad]) -> None:
        """The authority graph: besides its counts, the label of each of its people, places and
        organisations, for the people index."""
        self.add_quads(quads)
        for q in quads:
            if q.predicate.value == LABEL and isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.Literal) \
                    and q.subject.value.startswith(self.ids):
                self.labels.setdefault(q.subject.value, q.object.value)

    def people(self) -> list[tuple[str, str, int]]:
        """(IRI, label, documents) of every labelled entity of the authority graph, by label."""
        return sorted(((iri, label, self.mentions.get(iri, 0)) for iri, label in self.labels.items()),
                      key=lambda row: (row[1], row[0]))

    def add_provenance(self, quads: int, classes: dict[str, int]) -> None:
        """One record graph's provenance (lod.provenance.RecordProvenance). Its subjects (the graph, its
        source file's ``urn:sha256``) are the record's own: two published records never share a file, as
        identical files carry the same key and a duplicate key is refused."""
        self.quads += quads
        self.classes.update(classes)

    def stats(self) -> Stats:
        classes = Counter(self.classes)
        kinds = Counter({k: self.kinds.get(k, 0) for k in KINDS})
        typed: set[str] = set()
        for s, c in self.shared_types:
            classes[c] += 1
            if s not in typed:
                typed.add(s)
                kind = _kind(s, self.ids)
                if kind in KINDS:
                    kinds[kind] += 1
        links = Counter(_kind(s, self.ids) for s in self.shared_links)
        return Stats(triples=self.quads, documents=kinds["document"], entities=self.entities + len(self.shared_ids),
                     classes=dict(classes.most_common()), linksets={k: links[k] for k in ENTITY_KINDS if links[k]},
                     people=kinds["person"], kinds=dict(kinds))


def count_of(value: Any) -> int:
    return int(value.value) if value is not None else 0


def scan(store: Any, base: str) -> Stats:
    """The same counts by SPARQL over a published store: for a remote store, a build made before the
    build kept them, and the tests. Reads the whole store."""
    if getattr(store, "oxigraph", None) is not None:
        triples = len(store.oxigraph)            # every quad of every named graph
    else:
        triples = count_of(next(iter(store.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")))["n"])
    classes = {row["c"].value: count_of(row["n"]) for row in store.query(
        "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n)")}
    ids = str(ox.Literal(base + "id/"))
    entities = count_of(next(iter(store.query(
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o FILTER(STRSTARTS(STR(?s), {ids})) }}")))["n"])
    kinds: dict[str, int] = {}
    linksets: dict[str, int] = {}
    for kind in KINDS:
        prefix = str(ox.Literal(f"{base}id/{kind}/"))
        kinds[kind] = count_of(next(iter(store.query(
            f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a ?c FILTER(STRSTARTS(STR(?s), {prefix})) }}")))["n"])
        if kind != "document":
            linksets[kind] = count_of(next(iter(store.query(
                f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{SAME_AS}> ?o "
                f"FILTER(STRSTARTS(STR(?s), {prefix}) && STRSTARTS(STR(?o), \"{WIKIDATA}\")) }}")))["n"])
    return Stats(triples=triples, documents=kinds["document"], entities=entities, classes=classes,
                 linksets={k: v for k, v in linksets.items() if v}, people=kinds["person"], kinds=kinds)
