"""Pattern lookups (``quads_for_pattern``) over a remote store, with the caching that makes them cheap.

The web tier asks a store for patterns the way it asks pyoxigraph, dozens per description; over a
network that is a round trip each. This module answers them from statements fetched whole (a graph,
a subject, a subject's labels) once per published build. See :class:`RemoteQuads`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

if TYPE_CHECKING:
    from lod.remote import RemoteStore

PREFETCH = (ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"),
            ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
            ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"))

class RemoteQuads:
    """What callers use of ``pyoxigraph.Store`` (``store.oxigraph``): pattern lookups and raw queries.

    Semantics as in pyoxigraph: ``graph=None`` matches every graph, the store default graph is empty
    here, and ``query`` has no implicit union. A blank node from an earlier answer cannot be looked up
    again in a remote store (its label is the store's own), so such a pattern matches nothing.

    Speed: describing a document asks for dozens of patterns (labels of every linked resource...), a
    network round trip each. So a graph's statements and a subject's statements are fetched whole,
    once per published build, and kept in a bounded LRU; the patterns are answered from them. When a
    graph is asked for whole, the labels and owl:sameAs of every resource it names come with it in one
    batched query: a document's description costs 3 round trips instead of one per linked resource.
    The build stamp is part of the key: a rebuild empties the cache.
    """

    max_quads = 300_000   # statements kept per process
    max_one = 10_000      # a subject or graph with more statements is not kept (asked pattern by pattern)
    batch = 400           # subjects per prefetch query

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self._cache: OrderedDict[tuple[str, str], list[ox.Quad]] = OrderedDict()
        self._size = 0
        self._build: object = None
        self._big: set[tuple[str, str]] = set()   # subjects/graphs known to be too large to keep
        self._lock = threading.Lock()

    def _get(self, key: tuple[str, str]) -> list[ox.Quad] | None:
        with self._lock:
            if self._build != self.store.build:
                self._cache.clear()
                self._big.clear()
                self._size, self._build = 0, self.store.build
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _put(self, key: tuple[str, str], quads: list[ox.Quad]) -> None:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = quads
                self._size += len(quads)
                while self._size > self.max_quads and self._cache:
                    self._size -= len(self._cache.popitem(last=False)[1])

    def _whole(self, kind: str, node: ox.NamedNode, *, prefetch: bool = False) -> list[ox.Quad] | None:
        """All statements of a subject ("s") or of a graph ("g"); None when there are too many to keep."""
        key = (kind, node.value)
        hit = self._get(key)
        if hit is not None or key in self._big:
            return hit
        if kind == "s":
            q = f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ {node} ?p ?o }} }} LIMIT {self.max_one + 1}"
            quads = [ox.Quad(node, r["p"], r["o"], r["g"]) for r in self.store.query(q)]
        else:
            q = f"SELECT ?s ?p ?o WHERE {{ GRAPH {node} {{ ?s ?p ?o }} }} LIMIT {self.max_one + 1}"
            quads = [ox.Quad(r["s"], r["p"], r["o"], node) for r in self.store.query(q)]
        if len(quads) > self.max_one:
            self._big.add(key)        # asked pattern by pattern from now on (this build)
            return None
        self._put(key, quads)
        if prefetch:
            names = {t for q in quads for t in (q.subject, q.object) if isinstance(t, ox.NamedNode)}
            labelled = {q.subject for q in quads if q.predicate in PREFETCH[:2]}
            pairs = [(n, p) for n in sorted(names, key=lambda n: n.value) for p in PREFETCH
                     if not (n in labelled and p in PREFETCH[:2])]   # labelled here: nobody asks again
            self._prefetch(pairs)
        return quads

    def _pairs(self, subject: ox.NamedNode, predicate: ox.NamedNode) -> list[ox.Quad]:
        """One (subject, label/sameAs predicate) pair, in every graph."""
        key = ("sp", f"{subject.value} {predicate.value}")
        hit = self._get(key)
        if hit is None:
            q = f"SELECT ?o ?g WHERE {{ GRAPH ?g {{ {subject} {predicate} ?o }} }}"
            hit = [ox.Quad(subject, predicate, r["o"], r["g"]) for r in self.store.query(q)]
            self._put(key, hit)
        return hit

    def _prefetch(self, pairs: list[tuple[ox.NamedNode, ox.NamedNode]]) -> None:
        """Labels and owl:sameAs of many subjects in one query (what a description asks of every
        resource it links to); a batch whose answer would be too large is left to be asked one by one."""
        todo = [(n, p) for n, p in pairs if self._get(("sp", f"{n.value} {p.value}")) is None]
        for i in range(0, len(todo), self.batch):
            chunk = todo[i:i + self.batch]
            got: dict[tuple[str, str], list[ox.Quad]] = {(n.value, p.value): [] for n, p in chunk}
            values = " ".join(f"({n} {p})" for n, p in chunk)
            q = (f"SELECT ?s ?p ?o ?g WHERE {{ VALUES (?s ?p) {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} "
                 f"LIMIT {self.max_one + 1}")
            rows = list(self.store.query(q))
            if len(rows) > self.max_one:
                continue
            for r in rows:
                got[(r["s"].value, r["p"].value)].append(ox.Quad(r["s"], r["p"], r["o"], r["g"]))
            for (iri, pred), quads in got.items():
                self._put(("sp", f"{iri} {pred}"), quads)

    def quads_for_pattern(self, subject: Any = None, predicate: Any = None, object: Any = None,  # noqa: A002
                          graph_name: Any = None) -> Iterator[ox.Quad]:
        terms = (subject, predicate, object, graph_name)
        if any(isinstance(t, ox.BlankNode) for t in terms) or isinstance(graph_name, ox.DefaultGraph):
            return iter(())
        whole = None
        if isinstance(subject, ox.NamedNode) and predicate in PREFETCH and object is None:
            whole = self._pairs(subject, predicate)          # a label or owl:sameAs, in every graph
        elif isinstance(graph_name, ox.NamedNode):
            # a graph is the natural unit (a record graph is small): fetched once, answered locally; asked
            # for whole, the labels of what it names come with it. A large graph is asked pattern by pattern.
            whole = self._whole("g", graph_name, prefetch=subject is predicate is object is None)
        elif isinstance(subject, ox.NamedNode) and object is None:
            whole = self._whole("s", subject)
        if whole is not None:
            return iter([q for q in whole if (subject is None or q.subject == subject)
                         and (predicate is None or q.predicate == predicate)
                         and (object is None or q.object == object)
                         and (graph_name is None or q.graph_name == graph_name)])
        key = ("p", " ".join(str(t) for t in terms))
        hit = self._get(key) if subject is not None else None
        if hit is not None:
            return iter(hit)
        s, p, o, g = (str(t) if t is not None else f"?{v}" for t, v in zip(terms, "spog", strict=True))
        rows = self.store.query(f"SELECT * WHERE {{ GRAPH {g} {{ {s} {p} {o} }} }}")
        quads = [ox.Quad(subject or r["s"], predicate or r["p"], object or r["o"], graph_name or r["g"])
                 for r in rows]
        if subject is not None and len(quads) <= self.max_one:   # a subject's pattern: kept for this build
            self._put(key, quads)
        return iter(quads)

    def query(self, sparql: str, **kwargs: Any) -> Any:
        if kwargs.get("default_graph") is None and not kwargs.get("use_default_graph_as_union"):
            kwargs["use_default_graph_as_union"] = False
        return self.store.query(sparql, **kwargs)

    def contains_named_graph(self, graph: Any) -> bool:
        iri = graph.value if isinstance(graph, ox.NamedNode) else str(graph)
        return bool(self.store.query(f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"))
