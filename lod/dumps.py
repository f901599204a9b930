"""The build's dumps, written while it streams: dataset.nt.gz and dataset.ttl.gz (docs/mapping.md).

Both are the union of all graphs. Record graphs are written from their sorted N-Triples lines (the
same lines their catalog checksum is computed from); the shared graphs (ontology, authority,
provenance, enrichment) are appended from the store at the end. gzip runs in writer threads (the
compressor releases the GIL), so compression overlaps the mapping.
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from lod.mapping import namespaces as ns
from lod.uris import Minter

try:    # Intel ISA-L's gzip: 3.8x faster than zlib at the same size, the same gzip format (bench/RESULTS.md)
    from isal import igzip as _gzip

    GZIP_LEVEL = 1          # ISA-L levels are 0-3; 1 is as small as zlib's 2
except ImportError:         # no wheel for this platform: the standard library's zlib
    import gzip as _gzip  # type: ignore[no-redef]

    GZIP_LEVEL = 2          # ~2.5x faster than level 6, files ~20 % larger


def graph_checksum(statements: Iterable[Any]) -> tuple[str, list[str]]:
    """Canonical checksum of a record graph: SHA-256 of its sorted N-Triples lines (no blank nodes).

    ``statements``: a mapper's (subject, predicate, object) tuples (lod.mapping.Mapped.triples), or
    quads of one graph, as a list or an iterator. A quad is written by one ``str(quad)``, the graph name
    cut off the end (every quad is in the same graph).
    """
    quads = statements if isinstance(statements, list) else list(statements)
    if not quads:
        return hashlib.sha256(b"").hexdigest(), []
    if quads[0].__class__ is tuple:
        lines = sorted([f"{s} {p} {o} .\n" for s, p, o in quads])
    else:
        cut = -len(str(quads[0].graph_name)) - 1
        lines = sorted([str(q)[:cut] + " .\n" for q in quads])
    return hashlib.sha256("".join(lines).encode()).hexdigest(), lines


class Background:
    """A gzip file written by a thread; ``write`` queues, ``close`` drains and re-raises a write error."""

    def __init__(self, path: Path, level: int = GZIP_LEVEL) -> None:
        self.fileobj = _gzip.open(path, "wb", compresslevel=level)
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=256)
        self.error: BaseException | None = None
        self.closed = False
        self.thread = threading.Thread(target=self._run, name=f"dump-{path.name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            if self.error is None:
                try:
                    self.fileobj.write(chunk)
                except BaseException as exc:  # noqa: BLE001 - re-raised in the building thread
                    self.error = exc

    def write(self, data: bytes) -> int:
        if self.error is not None:
            raise self.error
        self.queue.put(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Writes are flushed by close(); pyoxigraph's dump calls this after each graph."""

    def close(self, abandon: bool = False) -> None:
        """Finish writing (re-raising a write error); ``abandon``: after a failure, just stop."""
        if self.closed:
            return
        self.closed = True
        self.queue.put(None)
        self.thread.join()
        self.fileobj.close()
        if self.error is not None and not abandon:
            raise self.error


class TurtleWriter:
    """Turtle from one graph's sorted N-Triples lines: subjects and predicates grouped (N-Triples terms
    are valid Turtle terms), known namespaces abbreviated in predicates and classes.

    A triple asserted in several graphs (the stubs each record graph carries) may appear once per
    graph in the dump; loading it gives the union graph all the same.
    """

    def __init__(self) -> None:
        self._abbr: dict[str, str] = {_RDF_TYPE_NT: "a"}

    @staticmethod
    def header() -> bytes:
        return "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in ns.PREFIXES.items()).encode()

    def _short(self, term: str) -> str:
        short = self._abbr.get(term)
        if short is None:
            short = term
            iri = term[1:-1]
            for prefix, base in ns.PREFIXES.items():
                if iri.startswith(base) and _LOCAL.fullmatch(iri[len(base):]):
                    short = f"{prefix}:{iri[len(base):]}"
                    break
            if len(self._abbr) < 10_000:
                self._abbr[term] = short
        return short

    def render(self, lines: list[str]) -> bytes:
        parts: list[str] = []
        subject = predicate = None
        short = self._short
        for line in lines:
            s, p, rest = line.split(" ", 2)
            o = rest[:-3]
            if s != subject:
                if subject is not None:
                    parts.append(" .\n")
                parts += (s, " ", short(p))
                subject, predicate = s, p
            elif p != predicate:
                parts += (" ;\n    ", short(p))
                predicate = p
            else:
                parts.append(" ,")
            parts += (" ", short(o) if p == _RDF_TYPE_NT and o.startswith("<") else o)
        if subject is not None:
            parts.append(" .\n")
        return "".join(parts).encode()


_RDF_TYPE_NT = f"<{ns.RDF}type>"
_LABEL = ox.NamedNode(ns.RDFS + "label")
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class ProvenanceDump:
    """The provenance graph's quads into both dumps as the build makes them, a batch at a time.

    Why: reading the graph back from the store at the end (about 8 quads per record) took 15 s of a
    100,000-record build, with nothing else left to overlap it.
    """

    BATCH = 4096

    def __init__(self, nt: Background, ttl: Background) -> None:
        self.nt, self.ttl = nt, ttl
        self.pending: list[ox.Triple] = []
        self.named: set[str] = set()       # subjects it labels (lod.naming: names outside the naming graphs)

    def add(self, quads: list[ox.Quad]) -> bytes:
        """Queue ``quads`` for the dumps; returns them as N-Quads for the bulk loader."""
        self.pending += [q.triple for q in quads]
        self.named.update(q.subject.value for q in quads if q.predicate == _LABEL)
        if len(self.pending) >= self.BATCH:
            self.flush()
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)

    def flush(self) -> None:
        if self.pending:
            self.nt.write(ox.serialize(self.pending, format=ox.RdfFormat.N_TRIPLES))
            self.ttl.write(_strip_prefixes(ox.serialize(self.pending, format=ox.RdfFormat.TURTLE,
                                                        prefixes=ns.PREFIXES)))
            self.pending = []


def shared_graphs(store: ox.Store, minter: Minter, nt: Background, ttl: Background) -> None:
    """Append the non-record graphs (ontology, authority, enrichment) to both dumps; the provenance graph
    went in as it was made (:class:`ProvenanceDump`)."""
    for graph in (minter.ontology_graph, minter.authority_graph, minter.enrichment_graph):
        g = ox.NamedNode(graph)
        store.dump(nt, ox.RdfFormat.N_TRIPLES, from_graph=g)
        ttl.write(_strip_prefixes(store.dump(None, ox.RdfFormat.TURTLE, from_graph=g, prefixes=ns.PREFIXES)))


def _strip_prefixes(chunk: bytes) -> bytes:
    pos = 0
    while chunk.startswith(b"@prefix", pos):
        pos = chunk.index(b"\n", pos) + 1
    return chunk[pos:]
