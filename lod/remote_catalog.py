"""The record catalog and the loader of a remote SPARQL store (see lod.remote).

Why a named graph: the catalog (per-record datestamp, checksum, deleted flag, sets; OAI-PMH pages from
it) must be shared by every web node, and the store is the one thing they all share. It lives in
``{base}graph/catalog``, which lod.remote hides from public queries on Virtuoso. Each record is one
subject with single-valued string properties plus ``order`` = "datestamp key": a single sortable literal,
so OAI keyset paging compares one value. Every comparison goes through STR(): Virtuoso 7.2's index range
on string literals gives wrong answers for ISO-date-like strings (``?d <= "2026-11-21T09:00:00Z"``
matched nothing, ``?d < "...:01Z"`` matched a later date; checked on 07.20.3229), and MIN()/MAX() of
plain string literals answer nothing or 0 there.

The writer replaces whole graphs (drop, then insert) and only those whose checksum changed; the checksums
of the graphs as loaded are kept in the catalog graph too, so a rebuild from any machine knows them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyoxigraph as ox

from lod.store import CatalogEntry, StoreError

if TYPE_CHECKING:
    from lod.remote import RemoteStore

NS = "urn:x-lod:catalog:"
FIELDS = ("key", "graph", "checksum", "datestamp", "deleted", "title", "sets", "source", "date")
# Update requests are batched, within limits measured on Virtuoso 07.20: its SPARQL parser gives up
# ("memory exhausted") past ~4,990 triples in one INSERT DATA, and refuses a request of ~2,000
# operations ("Query too large"). Throughput there peaks around 2,000 triples per operation.
BATCH_BYTES = 1_000_000   # update text per request
OP_TRIPLES = 2_000        # triples per INSERT DATA operation
MAX_OPS = 300             # operations per request


def lit(value: str) -> str:
    """A string as a SPARQL/N-Triples literal, escaped by pyoxigraph."""
    return str(ox.Literal(value))


def graph_checksum(quads: Iterable[ox.Quad]) -> str:
    """sha256 of the graph's sorted N-Triples lines: the same content gives the same sum on every machine."""
    lines = sorted(f"{q.subject} {q.predicate} {q.object} ." for q in quads)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


# ----------------------------------------------------------------------------------- catalog
class RemoteCatalog:
    """:class:`lod.store.Catalog`'s read and write interface over the catalog named graph."""

    def __init__(self, store: RemoteStore) -> None:
        self.store = store
        self.graph = store.base_uri + "graph/catalog"
        self._meta: dict[str, str] = {}
        self._sets: dict[str, str] = {}
        self._earliest: str | None = None

    def subject(self, key: str) -> str:
        return f"{self.graph}/record/{quote(key, safe='')}"

    def _select(self, body: str) -> Any:
        return self.store.raw_select(f"SELECT * WHERE {{ GRAPH <{self.graph}> {{ {body} }} }}")

    # --------------------------------------------------------------------------- cached per build
    def load_meta(self) -> str | None:
        """Re-read the meta table; returns the build stamp (``built_at``)."""
        rows = self._select(f"?m <{NS}name> ?n ; <{NS}value> ?v .")
        self._meta = {r["n"].value: r["v"].value for r in rows}
        return self._meta.get("built_at")

    def reload(self) -> None:
        rows = self._select(f"?s <{NS}setSpec> ?spec ; <{NS}setName> ?name .")
        self._sets = dict(sorted((r["spec"].value, r["name"].value) for r in rows))
        rows = list(self.store.raw_select(
            f"SELECT (MIN(STR(?d)) AS ?m) WHERE {{ GRAPH <{self.graph}> {{ ?r <{NS}datestamp> ?d }} }}"))
        self._earliest = rows[0]["m"].value if rows and rows[0]["m"] is not None else None

    def meta(self) -> dict[str, str]:
        return dict(self._meta)

    def sets(self) -> dict[str, str]:
        return dict(self._sets)

    def earliest(self) -> str | None:
        return self._earliest

    # --------------------------------------------------------------------------- per request
    # Two steps per read: the ordered subjects from ONE pattern (Virtuoso answered a 9-pattern star join
    # over 100,000 records sorted for one page in more than 30 s; one pattern sorts in ~0.15 s), then
    # the fields of just those subjects.
    def _fields(self, subjects: list[str]) -> list[CatalogEntry]:
        """The entries of these subjects, in this order (a subject without a row is skipped)."""
        rows: dict[str, dict[str, str]] = {s: {} for s in subjects}
        for i in range(0, len(subjects), 500):
            values = " ".join(f"<{s}>" for s in subjects[i:i + 500])
            q = f"SELECT ?r ?p ?o WHERE {{ GRAPH <{self.graph}> {{ VALUES ?r {{ {values} }} ?r ?p ?o }} }}"
            for row in self.store.raw_select(q):
                name = row["p"].value
                if name.startswith(NS) and name[len(NS):] in FIELDS:
                    rows[row["r"].value][name[len(NS):]] = row["o"].value
        out = []
        for s in subjects:
            v = rows[s]
            if "key" not in v:
                continue
            out.append(CatalogEntry(key=v["key"], graph=v.get("graph", ""), checksum=v.get("checksum", ""),
                                    datestamp=v.get("datestamp", ""), deleted=v.get("deleted") == "1",
                                    title=v.get("title", ""), sets=json.loads(v.get("sets", "[]")),
                                    source=v.get("source", ""), date=v.get("date", "")))
        return out

    def _ordered(self, pattern: str, where: str, sort: str, limit: int) -> list[str]:
        q = (f"SELECT ?r WHERE {{ GRAPH <{self.graph}> {{ {pattern} {where} }} }} "
             f"ORDER BY STR({sort}) LIMIT {int(limit)}")
        return [row["r"].value for row in self.store.raw_select(q)]

    def get(self, key: str) -> CatalogEntry | None:
        found = self._fields([self.subject(key)])
        return found[0] if found and found[0].key == key else None

    def all(self, chunk: int = 5000) -> Iterator[CatalogEntry]:
        """Every entry by key, fetched in keyset chunks (a store may cap the rows of one answer)."""
        after = None
        while True:
            where = f"FILTER(STR(?key) > {lit(after)})" if after is not None else ""
            subjects = self._ordered(f"?r <{NS}key> ?key .", where, "?key", chunk)
            rows = self._fields(subjects)
            yield from rows
            if len(subjects) < chunk:
                return
            after = rows[-1].key

    @staticmethod
    def _filter(start: str | None, until: str | None, set_spec: str | None) -> str:
        """Bounds on ?order = "datestamp key": ``d >= start`` iff ``order >= start``, and ``d <= until``
        iff ``order < until + "!"`` (the separator ' ' sorts before '!' and every datestamp character)."""
        parts = []
        if start:
            parts.append(f"FILTER(STR(?order) >= {lit(start)})")
        if until:
            parts.append(f"FILTER(STR(?order) < {lit(until + '!')})")
        if set_spec:
            parts.append(f"FILTER EXISTS {{ ?r <{NS}set> ?set FILTER(?set = {lit(set_spec)} || "
                         f"STRSTARTS(STR(?set), {lit(set_spec + ':')})) }}")
        return " ".join(parts)

    def page(self, *, start: str | None = None, until: str | None = None, set_spec: str | None = None,
             after: tuple[str, str] | None = None, limit: int = 100) -> list[CatalogEntry]:
        """Entries ordered by (datestamp, key), strictly after ``after``: keyset paging, flat memory."""
        where = self._filter(start, until, set_spec)
        if after:
            where += f" FILTER(STR(?order) > {lit(after[0] + ' ' + after[1])})"
        return self._fields(self._ordered(f"?r <{NS}order> ?order .", where, "?order", limit))

    def count(self, *, start: str | None = None, until: str | None = None, set_spec: str | None = None) -> int:
        q = (f"SELECT (COUNT(?r) AS ?n) WHERE {{ GRAPH <{self.graph}> {{ ?r <{NS}order> ?order . "
             f"{self._filter(start, until, set_spec)} }} }}")
        return int(next(iter(self.store.raw_select(q)))["n"].value)

    # --------------------------------------------------------------------------- writing (build time)
    def put(self, entries: Iterable[CatalogEntry]) -> int:
        """Replace these records' catalog rows; returns the number of update requests sent."""
        writer = self.store.writer()
        ops: list[tuple[list[str], list[str]]] = []
        for e in entries:
            s = f"<{self.subject(e.key)}>"
            values = {"key": e.key, "graph": e.graph, "checksum": e.checksum, "datestamp": e.datestamp,
                      "deleted": "1" if e.deleted else "0", "title": e.title, "sets": json.dumps(e.sets),
                      "source": e.source, "date": e.date, "order": f"{e.datestamp} {e.key}"}
            triples = [f"{s} <{NS}{k}> {lit(v)} ." for k, v in values.items()]
            triples += [f"{s} <{NS}set> {lit(x)} ." for x in e.sets]
            ops.append(([s], triples))
        return writer.replace_subjects(self.graph, ops)

    def put_sets(self, sets: Mapping[str, str]) -> int:
        writer = self.store.writer()
        ops = []
        for spec, name in sets.items():
            s = f"<{self.graph}/set/{quote(spec, safe='')}>"
            ops.append(([s], [f"{s} <{NS}setSpec> {lit(spec)} .", f"{s} <{NS}setName> {lit(name)} ."]))
        n = writer.replace_subjects(self.graph, ops)
        self._sets.update(sets)
        return n

    def set_meta(self, **values: str) -> int:
        writer = self.store.writer()
        ops = []
        for name, value in values.items():
            s = f"<{self.graph}/meta/{quote(name, safe='')}>"
            ops.append(([s], [f"{s} <{NS}name> {lit(name)} .", f"{s} <{NS}value> {lit(str(value))} ."]))
        n = writer.replace_subjects(self.graph, ops)
        self._meta.update({k: str(v) for k, v in values.items()})
        return n

    def close(self) -> None:
        pass


# ----------------------------------------------------------------------------------- loading
@dataclass
class SyncReport:
    replaced: list[str] = field(default_factory=list)   # graph IRIs dropped and loaded again (or new)
    dropped: list[str] = field(default_factory=list)    # graph IRIs removed
    unchanged: int = 0
    requests: int = 0                                   # update requests sent
    triples: int = 0                                    # triples sent


class RemoteWriter:
    """Replaces whole named graphs in the remote store: SPARQL 1.1 Update or the Graph Store Protocol."""

    def __init__(self, store: RemoteStore) -> None:
        if store.update_endpoint is None:
            raise StoreError(f"remote store {store.url}: loading needs store_update (a SPARQL Update or "
                             "Graph Store Protocol endpoint) and usually store_user / store_password")
        self.store = store
        self.ep = store.update_endpoint
        self.catalog_graph = store.catalog.graph
        self.report = SyncReport()

    # --------------------------------------------------------------------------- transport
    def update(self, text: str) -> None:
        r = self.ep.request("POST", data={"update": text}, what="SPARQL update")
        self.report.requests += 1
        if r.status_code >= 300:
            raise StoreError(f"remote store {self.ep.url} refused an update ({r.status_code}): {r.text[:500]}")

    def _gsp(self, method: str, graph: str, body: bytes | None = None) -> None:
        headers = {"Content-Type": "application/n-triples"} if body is not None else {}
        r = self.ep.request(method, params={"graph": graph}, data=body, headers=headers, what=f"GSP {method}")
        self.report.requests += 1
        if r.status_code >= 300 and not (method == "DELETE" and r.status_code == 404):
            raise StoreError(f"remote store {self.ep.url} refused {method} of graph {graph} ({r.status_code}): "
                             f"{r.text[:500]}")

    def _add(self, ops: list[str], op: str) -> None:
        """Queue one operation; send the queue when it reaches a request's limits."""
        ops.append(op)
        self._bytes = getattr(self, "_bytes", 0) + len(op)
        if len(ops) >= MAX_OPS or self._bytes >= BATCH_BYTES:
            self._flush(ops)

    def _flush(self, ops: list[str]) -> None:
        if ops:
            self.update(" ;\n".join(ops))
            ops.clear()
        self._bytes = 0

    # --------------------------------------------------------------------------- graphs
    def graph_checksums(self, chunk: int = 5000) -> dict[str, str]:
        """Checksum of every graph loaded, in keyset chunks (a store may cap the rows of one answer:
        Virtuoso's default ResultSetMaxRows is 10,000)."""
        out: dict[str, str] = {}
        after = ""
        while True:
            rows = list(self.store.raw_select(
                f"SELECT ?g ?c WHERE {{ GRAPH <{self.catalog_graph}> {{ ?g <{NS}graphChecksum> ?c "
                f"FILTER(STR(?g) > {lit(after)}) }} }} ORDER BY STR(?g) LIMIT {chunk}"))
            out.update((r["g"].value, r["c"].value) for r in rows)
            if len(rows) < chunk:
                return out
            after = rows[-1]["g"].value

    def replace_graphs(self, changed: Mapping[str, Iterable[ox.Quad]],
                       checksums: Mapping[str, str] | None = None) -> SyncReport:
        """Drop and reload each graph in ``changed``; record its checksum (given, or computed here).

        The checksum goes last, after the graph's data: a build that stops half-way leaves a graph whose
        checksum is missing or old, so the next build sends it again.
        """
        ops: list[str] = []
        self._bytes = 0
        for graph, quads in changed.items():
            quads = list(quads)
            triples = [f"{q.subject} {q.predicate} {q.object} ." for q in quads]
            digest = (checksums or {}).get(graph) or graph_checksum(quads)
            self.report.triples += len(triples)
            self.report.replaced.append(graph)
            if self.store.protocol == "gsp":
                self._gsp("PUT", graph, ("\n".join(triples) + "\n").encode())
                self.update(" ;\n".join(self._checksum_ops(graph, digest)))
                continue
            self._add(ops, f"DROP SILENT GRAPH <{graph}>")
            if any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object)):
                # Virtuoso refuses blank nodes in INSERT DATA; INSERT {...} WHERE {} is standard and keeps
                # them, but cannot be split without splitting blank nodes apart.
                if len(triples) > OP_TRIPLES:
                    raise StoreError(f"graph {graph} has blank nodes and {len(triples)} triples: too large for "
                                     "one SPARQL Update operation; load with store_protocol=gsp")
                self._add(ops, f"INSERT {{ GRAPH <{graph}> {{ {' '.join(triples)} }} }} WHERE {{}}")
            else:
                for i in range(0, len(triples), OP_TRIPLES):
                    self._add(ops, f"INSERT DATA {{ GRAPH <{graph}> {{ {' '.join(triples[i:i + OP_TRIPLES])} }} }}")
            for op in self._checksum_ops(graph, digest):
                self._add(ops, op)
        self._flush(ops)
        return self.report

    def _checksum_ops(self, graph: str, digest: str | None) -> list[str]:
        cg, p = self.catalog_graph, f"<{NS}graphChecksum>"
        out = [f"DELETE WHERE {{ GRAPH <{cg}> {{ <{graph}> {p} ?c }} }}"]
        if digest:
            out.append(f"INSERT DATA {{ GRAPH <{cg}> {{ <{graph}> {p} {lit(digest)} }} }}")
        return out

    def drop_graphs(self, iris: Iterable[str]) -> SyncReport:
        ops: list[str] = []
        self._bytes = 0
        for graph in iris:
            self.report.dropped.append(graph)
            if self.store.protocol == "gsp":
                self._gsp("DELETE", graph)
                self.update(" ;\n".join(self._checksum_ops(graph, None)))
                continue
            for op in (f"DROP SILENT GRAPH <{graph}>", *self._checksum_ops(graph, None)):
                self._add(ops, op)
        self._flush(ops)
        return self.report

    def sync(self, graphs: Mapping[str, Iterable[ox.Quad]], checksums: Mapping[str, str] | None = None, *,
             drop_missing: bool = True) -> SyncReport:
        """Make the store hold exactly ``graphs``: replace those whose checksum differs, drop vanished ones."""
        known = self.graph_checksums()
        sums = dict(checksums or {})
        changed: dict[str, list[ox.Quad]] = {}
        for g, quads in graphs.items():
            quads = list(quads)
            sums.setdefault(g, graph_checksum(quads))
            if known.get(g) != sums[g]:
                changed[g] = quads
            else:
                self.report.unchanged += 1
        self.replace_graphs(changed, sums)
        if drop_missing:
            self.drop_graphs(sorted(set(known) - set(graphs)))
        return self.report

    # --------------------------------------------------------------------------- catalog rows
    def replace_subjects(self, graph: str, ops: Iterable[tuple[list[str], list[str]]]) -> int:
        """Delete every triple of the given subjects in ``graph``, then insert the new ones; batched."""
        before = self.report.requests
        subjects: list[str] = []
        triples: list[str] = []
        size = 0

        def flush() -> None:
            nonlocal size
            if not subjects:
                return
            self.update(f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{graph}> {{ "
                        f"VALUES ?s {{ {' '.join(subjects)} }} ?s ?p ?o }} }} ;\n"
                        f"INSERT DATA {{ GRAPH <{graph}> {{ {' '.join(triples)} }} }}")
            subjects.clear()
            triples.clear()
            size = 0

        for subj, new in ops:
            subjects += subj
            triples += new
            size += sum(map(len, new))
            if size > BATCH_BYTES // 2 or len(triples) >= OP_TRIPLES or len(subjects) >= 1000:
                flush()
        flush()
        return self.report.requests - before
