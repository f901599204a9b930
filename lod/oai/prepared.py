"""oai_dc and edm rendered once per record at build time, kept beside the catalog, with the record graph.

Why: reading a record graph back from the on-disk store costs several microseconds per statement
(every term is decoded), about a millisecond per record for oai_dc, which caps a harvest below
1,000 records/s per core. The build already holds each record's quads in memory, so it renders the
two harvested formats there (:class:`Preparer`, from the very same code as live rendering, via
:class:`~lod.oai.formats.MemorySource`) into ``builds/<id>/oai.sqlite``; serving a page is then one
indexed SELECT. A build without the file, or one prepared with other publisher settings (the
fingerprint differs), is rendered live from the store: same bytes, only slower.

The record graph's N-Triples (as the build serialised them for its checksum) are kept too: describing
a document (lod.describe) reads them here, about 0.4 ms against 1.7 ms for decoding the same
statements from the store, and against a network round trip for a remote store.

Blobs are Zstandard level 1: against zlib level 1, 3x faster to write (0.11 against 0.32 ms per record
at build time, where the build's workers are the bottleneck), 2x faster to read, and 4 % smaller. The module-level functions
are used because a (de)compressor object must not be shared between threads.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import zstandard

from lod.described import Described
from lod.kept_files import KeptFile
from lod.oai.formats import FORMATS, Context, MemorySource, RecordView, check_edm_rights, vocabulary_labels

VERSION = "3"                       # bump when rendering changes: older files are then ignored
PREPARED = ("oai_dc", "edm")
FILE = "oai.sqlite"
NAMES = "2"                         # the names table's layout (lod.naming); another is not read


def context(settings: Any) -> Context:
    from lod.uris import Minter

    minter = Minter(settings.base_uri)
    return Context(publisher=settings.publisher, edm_rights=check_edm_rights(settings.edm_rights),
                   landing_page=lambda iri: minter.data_document(iri, "html"))


def fingerprint(settings: Any) -> str:
    """What prepared XML depends on besides the record graph."""
    parts = (VERSION, settings.base_uri, settings.publisher, settings.edm_rights)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


class Preparer:
    """Renders each published record as the build maps it; ``close()`` before publishing."""

    def __init__(self, build_dir: Path, settings: Any, ontology: Iterable[ox.Quad]) -> None:
        from lod.uris import Minter

        self.minter = Minter(settings.base_uri)
        self.ctx = context(settings)
        self.vocab = vocabulary_labels(ontology)
        self.db = sqlite3.connect(build_dir / FILE)
        self.db.executescript(
            "CREATE TABLE records (key TEXT PRIMARY KEY, oai_dc BLOB NOT NULL, edm BLOB NOT NULL, graph BLOB NOT NULL);"
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);")
        self.db.executemany("INSERT INTO meta VALUES (?, ?)", [("fingerprint", fingerprint(settings))])
        self.batch: list[tuple[str, bytes, bytes, bytes]] = []
        self.count = 0

    def add(self, key: str, quads: list[Any]) -> None:
        self.put(key, self.render(key, quads))

    def render(self, key: str, statements: list[Any], nt: bytes | None = None) -> tuple[bytes, ...]:
        """The prepared formats of one record and its graph's N-Triples (``nt`` if the caller has them),
        compressed (no database: `lod build` workers call this). ``statements``: quads, or a mapper's
        (subject, predicate, object) tuples."""
        source = MemorySource(statements, self.vocab)
        view = RecordView.read(source, self.minter.document(key))
        xml = tuple(zstandard.compress(FORMATS[p].render(view, self.ctx), 1) for p in PREPARED)
        if nt is None:
            nt = ox.serialize(source.quads(), format=ox.RdfFormat.N_TRIPLES) or b""
        return (*xml, zstandard.compress(nt, 1))

    def put(self, key: str, blobs: tuple[bytes, ...]) -> None:
        self.batch.append((key, *blobs))
        if len(self.batch) >= 1000:
            self._flush()

    def _flush(self) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)", self.batch)
        self.count += len(self.batch)
        self.batch = []

    def put_names(self, rows: Iterable[tuple[str, bytes | None, bytes, str | None]], named: set[str]) -> None:
        """What describing looks up about linked resources (lod.naming), written once per build; ``named``:
        the IRIs other graphs (record graphs, provenance) name, whose names the table may not hold."""
        answered = set()
        with self.db:
            self.db.execute("CREATE TABLE names (iri TEXT PRIMARY KEY, labels BLOB, links BLOB NOT NULL, variants TEXT)")
            self.db.execute("CREATE TABLE elsewhere (iri TEXT PRIMARY KEY)")
            for row in rows:
                self.db.execute("INSERT INTO names VALUES (?, ?, ?, ?)", row)
                if row[1] is not None and row[3] is not None:
                    answered.add(row[0])
            self.db.executemany("INSERT INTO elsewhere VALUES (?)", ((iri,) for iri in sorted(named - answered)))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('names', ?)", (NAMES,))

    def close(self) -> None:
        self._flush()
        self.db.execute("INSERT OR REPLACE INTO meta VALUES ('records', ?)", (str(self.count),))
        self.db.commit()
        self.db.close()


class Prepared(KeptFile):
    """Read side: the prepared XML of a page of records in one query."""

    FILE = FILE
    UNREADABLE = "OAI-PMH renders from the store"
    MISMATCH = ("prepared with other base_uri/publisher/edm_rights settings; OAI-PMH renders from the store "
                "(rebuild to prepare again)")
    fingerprint = staticmethod(fingerprint)

    def get(self, keys: list[str], prefix: str) -> dict[str, bytes]:
        """Serialised metadata elements by key (as the build wrote them)."""
        if prefix not in PREPARED or not keys:
            return {}
        out = {}
        for i in range(0, len(keys), 500):
            chunk = keys[i:i + 500]
            rows = self.db.execute(f"SELECT key, {prefix} FROM records WHERE key IN ({','.join('?' * len(chunk))})",
                                   chunk)
            for key, blob in rows:
                out[key] = zstandard.decompress(blob)
        return out

    @property
    def has_names(self) -> bool:
        return self.meta.get("names") == NAMES

    def names(self, iris: list[str]) -> tuple[dict[str, tuple[bytes | None, bytes, str | None]], set[str]]:
        """Rows of the build's names table (lod.naming) by IRI, (labels, links, variants as JSON), and
        which of ``iris`` other graphs name too (their names may be there)."""
        rows, elsewhere = {}, set()
        for i in range(0, len(iris), 500):
            chunk = iris[i:i + 500]
            marks = ",".join("?" * len(chunk))
            for iri, labels, links, variants in self.db.execute(
                    f"SELECT iri, labels, links, variants FROM names WHERE iri IN ({marks})", chunk):
                rows[iri] = (labels, links, variants)
            elsewhere.update(r[0] for r in self.db.execute(f"SELECT iri FROM elsewhere WHERE iri IN ({marks})", chunk))
        return rows, elsewhere

    def graph(self, key: str) -> bytes | None:
        """The record graph of ``key`` as N-Triples; None when the build did not publish it."""
        row = self.db.execute("SELECT graph FROM records WHERE key = ?", (key,)).fetchone()
        return zstandard.decompress(row[0]) if row else None


class PreparedFiles:
    """The prepared file of a store's current build, opened once per build (the latest two are kept)."""

    def __init__(self, settings: Any, *, described: bool = True) -> None:
        self.settings = settings
        self.files: dict[str, Prepared | None] = {}
        # lod.described: each document's description kept by the build (False while the build writes it)
        self.keep_described = described
        self.described_files: dict[str, Described | None] = {}

    def of(self, store: Any) -> Prepared | None:
        build = getattr(store, "build", None)
        if build is None:
            return None
        build = Path(build)
        if build.name not in self.files:
            if len(self.files) >= 2:
                self.files.pop(next(iter(self.files)))
            root = getattr(getattr(store, "layout", None), "root", None)
            # a remote store (lod.remote) keeps the build's prepared file beside its dumps
            where = build if root else getattr(store, "prepared_dir", None)
            self.files[build.name] = Prepared.open(where, self.settings) if where else None
        return self.files[build.name]

    def described(self, store: Any) -> Described | None:
        """The described file of an embedded store's current build (lod.described), opened once per build."""
        build = getattr(store, "build", None)
        if build is None or not self.keep_described or getattr(getattr(store, "layout", None), "root", None) is None:
            return None
        build = Path(build)
        if build.name not in self.described_files:
            if len(self.described_files) >= 2:
                self.described_files.pop(next(iter(self.described_files)))
            self.described_files[build.name] = Described.open(build, self.settings)
        return self.described_files[build.name]
