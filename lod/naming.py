"""What describing a document looks up about the resources it links to, computed once per build.

Why: a document's description adds the labels of the people, places and terms it links to (and
their owl:sameAs, or a Wikidata item's life dates); its HTML page also every alternative name, to
link mentions in the text. Looked up in the store, each name not yet seen reads RocksDB, whose
block caches (one set per process holding the store, up to about 160 MB, which pyoxigraph does not
let us lower) then fill with every resource named: most of a web worker's memory under a spread
load, and a seventh of its CPU. These lookups read only the graphs that name a resource once
(authority, ontology, enrichment), and the build holds those graphs' quads in memory, so it writes
each answer into the prepared file (lod.oai.prepared, table ``names``); describing reads them with
one indexed SELECT per document. The table also lists the resources that other graphs (record graphs,
provenance) name (``elsewhere``): only those, and the things under ``{base}id/`` other than people,
places and organisations, are looked up in the store as before; any other resource the table does
not name has no name. Everything is looked up in the store when the build has no table, and with a
remote store (whose being down must still give 503, not a page of an unknown build).

The rules are those of :class:`lod.describe.Describer` (kept beside them, and held equal by
tests/test_naming.py over the bundled records):

- labels: rdfs:label and skos:prefLabel from the first naming graph that has any, the ontology's
  only in English or untagged;
- links: owl:sameAs in the authority graph of our people, places and organisations; life dates
  (P569, P570) of Wikidata items from the naming graphs;
- variants: rdfs:label, skos:prefLabel and skos:altLabel from the first naming graph that has any.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import pyoxigraph as ox

from lod import nt_lines
from lod.mapping.namespaces import OWL, RDFS, SKOS

LABELS = (ox.NamedNode(RDFS + "label"), ox.NamedNode(SKOS + "prefLabel"))
ALT_LABEL = ox.NamedNode(SKOS + "altLabel")
SAME_AS = ox.NamedNode(OWL + "sameAs")
WIKIDATA = "http://www.wikidata.org/entity/"
LIFE_DATES = (ox.NamedNode("http://www.wikidata.org/prop/direct/P569"),
              ox.NamedNode("http://www.wikidata.org/prop/direct/P570"))
ENTITY_KINDS = ("person", "place", "organization", "group")
_WANTED = frozenset((*LABELS, ALT_LABEL, SAME_AS, *LIFE_DATES))

Row = tuple[str, bytes | None, bytes, str | None]      # iri, labels, links (N-Triples lines), variants (JSON)


def lines(triples: Iterable[ox.Triple]) -> bytes:
    """N-Triples lines as the build writes them (lod.nt_lines.of)."""
    return "".join(f"{t} .\n" for t in triples).encode()


def label_quads(quads: Sequence[ox.Quad], ontology_graph: str) -> list[ox.Quad]:
    """Of one resource's quads in one naming graph: its labels as describing adds them."""
    return [q for q in quads if q.predicate in LABELS
            and not (q.graph_name.value == ontology_graph and getattr(q.object, "language", None) not in (None, "en"))]


def entity_prefixes(base: str) -> tuple[str, ...]:
    return tuple(f"{base}id/{k}/" for k in ENTITY_KINDS)


def rows(graphs: Sequence[tuple[str, Iterable[ox.Quad]]], *, base: str, authority_graph: str,
         ontology_graph: str) -> Iterator[Row]:
    """One row per resource named in the naming ``graphs`` (name, quads), given in lookup order."""
    entities = entity_prefixes(base)
    by_subject: dict[str, dict[str, list[ox.Quad]]] = {}
    for name, quads in graphs:
        for q in quads:
            if q.predicate in _WANTED and isinstance(q.subject, ox.NamedNode) and q.graph_name.value == name:
                by_subject.setdefault(q.subject.value, {}).setdefault(name, []).append(q)
    order = [name for name, _ in graphs]
    for iri, per_graph in by_subject.items():
        labels: bytes | None = None
        variants: str | None = None
        for g in order:
            found = [q for p in LABELS for q in per_graph.get(g, ()) if q.predicate == p]
            if found:
                labels = lines(q.triple for q in label_quads(found, ontology_graph))
                break
        for g in order:
            found = [q for p in (*LABELS, ALT_LABEL) for q in per_graph.get(g, ()) if q.predicate == p]
            if found:
                names = dict.fromkeys(q.object.value for q in found if isinstance(q.object, ox.Literal))
                variants = json.dumps(list(names), ensure_ascii=False)
                break
        links = b""
        if iri.startswith(entities):
            links = lines(q.triple for q in per_graph.get(authority_graph, ()) if q.predicate == SAME_AS)
        elif iri.startswith(WIKIDATA):
            links = lines(q.triple for g in order for q in per_graph.get(g, ()) if q.predicate in LIFE_DATES)
        if labels is not None or variants is not None or links:
            yield iri, labels, links, variants


class NameLookups:
    """The lookups of names, links and variants of linked resources, for lod.describe.Describer: the
    build's table first (one SELECT per document), then the store; kept per build.

    Expects of its host: ``store``, ``prepared`` (lod.oai.prepared.PreparedFiles or None), ``quads``,
    ``naming_graphs``, ``ontology_graph``, ``authority_node``, ``entity_prefixes``, ``ids``, ``_names`` and
    ``_names_build``.
    """

    store: Any
    prepared: Any
    naming_graphs: tuple[ox.NamedNode, ...]
    ontology_graph: str
    authority_node: ox.NamedNode
    entity_prefixes: tuple[str, ...]
    ids: str                                # {base}id/
    _names: dict[tuple[str, tuple[Any, ...]], Any]
    _names_build: object

    def quads(self, s: Any = None, p: Any = None, o: Any = None, g: Any = None) -> Iterator[ox.Quad]:
        raise NotImplementedError

    def _memo_lines(self, iri: str, what: str, lookup: Any) -> bytes:
        hit = self._names.get((iri, (what,))) if self._names_build is getattr(self.store, "build", None) else None
        return hit if hit is not None else self._memo(ox.NamedNode(iri), (what,), lambda n: nt_lines.of(lookup(n)))

    def _from_table(self, needs: list[tuple[str, str]]) -> None:
        """Put what the build's names table (lod.naming) says about ``needs`` ((iri, "labels" | "links" |
        "variants")) into the memo, in one SELECT; what it does not hold is looked up in the store."""
        if self.prepared is None or getattr(getattr(self.store, "layout", None), "root", None) is None:
            return      # a remote store is asked: whether it answers is what the node reports (503)
        names = self._memo_dict()
        needs = [(v, what) for v, what in needs if (v, (what,)) not in names]
        missing = sorted({v for v, _ in needs})
        if not missing:
            return
        try:
            files = self.prepared.of(self.store)
            found = files.names(missing) if files is not None and files.has_names else None
        except Exception:  # noqa: BLE001 - a damaged prepared file: the store answers
            return
        if found is None:
            return
        rows, elsewhere = found
        for v, what in needs:
            row = rows.get(v)
            if what == "links":                  # the table has every naming-graph statement: none is none
                names[(v, (what,))] = row[1] if row is not None else b""
                continue
            value = None if row is None else row[0] if what == "labels" else row[2]
            if value is not None:
                names[(v, (what,))] = value if what == "labels" else json.loads(value)
            elif v not in elsewhere and not (v.startswith(self.ids) and not v.startswith(self.entity_prefixes)):
                # named nowhere: no lookup (things under {base}id/ other than entities: the store answers)
                names[(v, (what,))] = b"" if what == "labels" else []

    def _label_triples(self, r: ox.NamedNode) -> list[ox.Triple]:
        found = []
        for q in self._lookup_names(r, LABELS):
            lang = getattr(q.object, "language", None)
            if q.graph_name.value == self.ontology_graph and lang not in (None, "en"):
                continue
            found.append(q.triple)
        return found

    def _local_labels(self, r: ox.NamedNode) -> list[ox.Triple]:
        """``_label_triples`` for a thing of one record: all its statements in one lookup (a few, in its
        own record graph) instead of one per graph and predicate."""
        by_graph: dict[Any, list[ox.Triple]] = {}
        for q in self.quads(r):
            if q.predicate in LABELS:
                by_graph.setdefault(q.graph_name, []).append(q.triple)
        for g in self.naming_graphs:
            if g in by_graph:
                return by_graph[g]
        return next(iter(by_graph.values()), [])

    def _link_triples(self, r: ox.NamedNode) -> list[ox.Triple]:
        if r.value.startswith(self.entity_prefixes):
            return [q.triple for q in self.quads(r, SAME_AS, None, self.authority_node)]
        if r.value.startswith(WIKIDATA):      # life dates from the enrichment graph (lod.naming)
            return [q.triple for g in self.naming_graphs for p in LIFE_DATES for q in self.quads(r, p, None, g)]
        return []

    def variants(self, iris: Iterable[str]) -> dict[str, list[str]]:
        """Every name (rdfs:label, skos:prefLabel, skos:altLabel) of each IRI: for linking mentions."""
        iris = list(iris)
        self._from_table([(iri, "variants") for iri in iris])
        return {iri: self._memo(ox.NamedNode(iri), ("variants",), self._variant_values) for iri in iris}

    def _variant_values(self, node: ox.NamedNode) -> list[str]:
        names = self.names_of(node, (*LABELS, ALT_LABEL))
        return list(dict.fromkeys(q.object.value for q in names if isinstance(q.object, ox.Literal)))

    def names_of(self, node: ox.NamedNode, predicates: Iterable[ox.NamedNode]) -> list[ox.Quad]:
        """Names of ``node`` from the graphs that describe it once (authority, ontology, enrichment);
        failing those, from the first graph that names it. Never reads every record graph's copy."""
        predicates = tuple(predicates)
        return self._memo(node, predicates, lambda n: self._lookup_names(n, predicates))

    def _memo_dict(self) -> dict[tuple[str, tuple[Any, ...]], Any]:
        """The names kept for the published build (bounded: cleared when full)."""
        build = getattr(self.store, "build", None)
        if build is not self._names_build or len(self._names) > 50_000:   # the store swaps the object
            self._names, self._names_build = {}, build
        return self._names

    def _memo(self, node: ox.NamedNode, predicates: tuple[Any, ...], lookup: Any) -> Any:
        """``lookup(node)``, kept until the published build changes."""
        names = self._memo_dict()
        key = (node.value, predicates)
        hit = names.get(key)
        if hit is None:
            hit = names[key] = lookup(node)
        return hit

    def _lookup_names(self, node: ox.NamedNode, predicates: tuple[ox.NamedNode, ...]) -> list[ox.Quad]:
        for g in self.naming_graphs:
            found = [q for p in predicates for q in self.quads(node, p, None, g)]
            if found:
                return found
        found = []
        for p in predicates:
            first = None
            for q in self.quads(node, p):
                if first is None:
                    first = q.graph_name
                elif q.graph_name != first:
                    break
                found.append(q)
        return found
