"""Every published document's description, described and written as Turtle once per build.

Why: a document's description only changes with a new build, yet describing it (names of the
resources it links to, metadata) and writing its Turtle cost ~1 ms of CPU per request, most of an
uncached dereference. At 100,000 documents, requests spread over many documents miss the response
caches, and that millisecond per request, queued behind others on two cores, set the p99. So the
build describes each document (lod.describe, the same code a live request runs), keeps the
description's sorted N-Triples and its Turtle (lod.render.serialize_lines) in
``builds/<id>/described.sqlite``, Zstandard level 1, and a request reads one row.

Other formats (JSON-LD, RDF/XML, HTML) are written at request time from the kept N-Triples, as
before. A build without the file, or one described with other base_uri/licence settings or another
lod version (the fingerprint differs), is described live: same bytes, only slower. A remote store's
build (lod.remote_build) is described live.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import zstandard

from lod import __version__
from lod.kept_files import KeptFile

FILE = "described.sqlite"
VERSION = "1"           # bump when describing or writing Turtle changes: older files are then ignored
CHUNK = 500             # documents per task given to a build worker


def fingerprint(settings: Any) -> str:
    """What a document's description depends on besides the build's data."""
    parts = (VERSION, __version__, settings.base_uri, settings.licence)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


# ------------------------------------------------------------------------------------ build side
class _BuildView:
    """What lod.describe needs of a store, over a build that is not published yet."""

    def __init__(self, build: Path) -> None:
        import pyoxigraph as ox

        self.build = build
        self.oxigraph = ox.Store.read_only(str(build / "oxigraph"))
        self.layout = SimpleNamespace(root=build.parent)    # lod.oai.prepared: an embedded build


_WORKER: tuple[Path, Any] | None = None      # per worker process: (build, describer)


def _describer(build: Path, settings: Any) -> Any:
    from lod.describe import Describer
    from lod.oai.prepared import PreparedFiles
    from lod.uris import Minter

    return Describer(_BuildView(build), Minter(settings.base_uri), licence=settings.licence,
                     page_size=settings.inverse_page_size, prepared=PreparedFiles(settings, described=False))


def describe_chunk(build: Path, settings: Any, meta: dict[str, str], keys: list[str]) -> list[tuple[str, bytes, bytes]]:
    """Rows (key, N-Triples, Turtle), compressed, of these documents; run in a build worker (or in-process).
    The worker keeps its store and describer between chunks: names recur from one document to the next."""
    global _WORKER
    from lod.render import BY_EXT, serialize_lines

    if _WORKER is None or _WORKER[0] != build:
        _WORKER = (build, _describer(build, settings))
    describer = _WORKER[1]
    turtle = BY_EXT["ttl"]
    rows = []
    prefix = describer.document_prefix
    for key in keys:
        iri = describer.minter.document(key)        # percent-encoded as needed: kept under its IRI's local part
        desc = describer.describe(iri, 1, meta=meta)
        if desc is None or desc.nt is None:
            # not described from the prepared lines (a key the minter percent-encodes is not found there by
            # its IRI): a live request describes it from the store, and so does every request for it
            continue
        rows.append((iri[len(prefix):], zstandard.compress(desc.nt, 1),
                     zstandard.compress(serialize_lines(desc.nt, turtle), 1)))
    return rows


def forget() -> None:
    """Close the store a worker (or the build process) opened for describing."""
    global _WORKER
    _WORKER = None


def write(build: Path, settings: Any, keys: list[str], meta: dict[str, str],
          run: Callable[[Callable[..., Any], Iterable[tuple[Any, ...]]], Iterator[Any]] | None = None,
          progress: Callable[[str, int, int], None] | None = None) -> int:
    """Describe ``keys`` of ``build`` into its described file; returns how many were written.

    ``run(fn, argument tuples)`` runs the chunks (in the build's worker processes, in order); without
    it, in this process. ``progress("describing", done, total)`` after each chunk."""
    path = build / FILE
    db = sqlite3.connect(path)
    try:
        db.executescript("CREATE TABLE documents (key TEXT PRIMARY KEY, nt BLOB NOT NULL, turtle BLOB NOT NULL);"
                         "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);")
        chunks = [(build, settings, meta, keys[i:i + CHUNK]) for i in range(0, len(keys), CHUNK)]
        results = run(describe_chunk, chunks) if run is not None else (describe_chunk(*c) for c in chunks)
        count = done = 0
        for (_b, _s, _m, chunk), rows in zip(chunks, results, strict=True):
            with db:
                db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", rows)
            count += len(rows)
            done += len(chunk)
            if progress and done < len(keys):
                progress("describing", done, len(keys))
        with db:
            db.executemany("INSERT INTO meta VALUES (?, ?)", [("fingerprint", fingerprint(settings)),
                                                              ("documents", str(count))])
    finally:
        forget()
        db.close()
    return count


# ------------------------------------------------------------------------------------ serving side
class Described(KeptFile):
    """Read side: one document's kept description, one indexed SELECT."""

    FILE = FILE
    UNREADABLE = "documents are described live"
    MISMATCH = ("described with other base_uri/licence settings or another lod version; documents are described "
                "live (rebuild to describe them again)")
    fingerprint = staticmethod(fingerprint)

    def get(self, key: str) -> tuple[bytes, bytes] | None:
        """(N-Triples compressed, Turtle) of the description of document ``key`` (its IRI's local part,
        as the minter writes it); None when not kept. The N-Triples are decompressed only when a format
        other than Turtle asks for them (lod.describe.Description.nt): a third of a Turtle request's CPU."""
        row = self.db.execute("SELECT nt, turtle FROM documents WHERE key = ?", (key,)).fetchone()
        return (row[0], zstandard.decompress(row[1])) if row else None
