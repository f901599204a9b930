"""The published dataset on disk: an embedded Oxigraph store plus a record catalog, per build.

Layout of ``--store DIR`` (docs/deploy.md)::

    DIR/CURRENT                 name of the published build (replaced atomically)
    DIR/builds/<id>/oxigraph/   the quads: one named graph per record + authority, ontology, provenance
    DIR/builds/<id>/catalog.sqlite   one row per record ever published: datestamp, checksum, deleted, sets
    DIR/builds/<id>/dumps/      dataset.nt.gz, dataset.ttl.gz

A build writes a new ``builds/<id>`` and only then replaces ``CURRENT``; a failed or killed
build leaves the published one untouched. Readers open builds read-only and notice a new
``CURRENT`` on their next request (:meth:`EmbeddedStore.refresh`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

_BUILD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")   # what new_build() names; never a path


class StoreError(RuntimeError):
    """The store cannot be opened or is inconsistent; the message names the directory."""


class StoreUnavailable(StoreError):
    """A remote store cannot be reached right now; the web tier answers 503 + Retry-After (lod.remote)."""

    retry_after = 5


# ----------------------------------------------------------------------------------- layout
class Layout:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @property
    def pointer(self) -> Path:
        return self.root / "CURRENT"

    def current(self) -> Path | None:
        try:
            raw = self.pointer.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:              # the store is a file, unreadable...
            raise StoreError(f"{self.pointer} cannot be read: {exc.strerror or exc}") from None
        try:
            name = raw.decode("ascii").strip()
        except UnicodeDecodeError:
            raise StoreError(f"{self.pointer} is corrupted: it must hold a build name, not binary data") from None
        path = self.root / "builds" / name
        if not _BUILD_NAME.fullmatch(name) or not path.is_dir():
            raise StoreError(f"{self.pointer} names build {name!r}, which is missing from {self.root / 'builds'}")
        return path

    def new_build(self) -> Path:
        build_id = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + f"-{os.getpid()}"
        path = self.root / "builds" / build_id
        path.mkdir(parents=True, exist_ok=False)
        return path

    def publish(self, build: Path) -> None:
        """Atomically make ``build`` the published dataset."""
        tmp = self.root / f".CURRENT.{os.getpid()}"
        with open(tmp, "w") as fh:
            fh.write(build.name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer)
        dir_fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def prune(self, keep: int = 2) -> None:
        """Remove old and abandoned builds, keeping the newest ``keep`` (readers may hold the previous one)."""
        builds_dir = self.root / "builds"
        if not builds_dir.is_dir():
            return
        current = self.current()
        builds = sorted(p for p in builds_dir.iterdir() if p.is_dir())
        kept = {current} | set(builds[-keep:]) if current else set(builds[-keep:])
        for p in builds:
            if p not in kept and (current is None or p.name < current.name):
                shutil.rmtree(p, ignore_errors=True)


# ----------------------------------------------------------------------------------- catalog
@dataclass
class CatalogEntry:
    key: str
    graph: str
    checksum: str
    datestamp: str               # UTC, seconds: 2026-11-22T09:00:00Z
    deleted: bool = False
    title: str = ""
    sets: list[str] = field(default_factory=list)
    source: str = ""             # the record file it came from
    date: str = ""               # the document's earliest dcterms:date, as written ("" when undated)


SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY, graph TEXT NOT NULL, checksum TEXT NOT NULL, datestamp TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0, title TEXT NOT NULL DEFAULT '', sets TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS records_by_datestamp ON records (datestamp, key);
CREATE INDEX IF NOT EXISTS records_by_date ON records (deleted, date, key);
CREATE TABLE IF NOT EXISTS record_sets (set_spec TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (set_spec, key));
CREATE INDEX IF NOT EXISTS record_sets_by_key ON record_sets (key, set_spec);
CREATE TABLE IF NOT EXISTS sets (set_spec TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS people (position INTEGER PRIMARY KEY, iri TEXT NOT NULL, label TEXT NOT NULL,
    documents INTEGER NOT NULL);
"""


class Catalog:
    """Per-record publication state, carried from build to build (stable OAI datestamps)."""

    def __init__(self, path: str | os.PathLike[str], *, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        self._meta: dict[str, str] | None = None
        if readonly:
            if not self.path.is_file():
                raise StoreError(f"catalog missing: {self.path}")
            self.db = sqlite3.connect(f"file:{self.path}?mode=ro&immutable=1", uri=True,
                                      check_same_thread=False)
        else:
            self.db = sqlite3.connect(self.path, check_same_thread=False)
            self.db.executescript(SCHEMA)
        self.db.row_factory = sqlite3.Row
        self.dated = any(r["name"] == "date" for r in self.db.execute("PRAGMA table_info(records)"))
        # SPARQL's LCASE lowers all of Unicode; SQLite's lower() only ASCII
        self.db.create_function("lcase", 1, str.lower, deterministic=True)

    def close(self) -> None:
        self.db.close()

    # writing (build time)
    def put(self, entries: Iterable[CatalogEntry]) -> None:
        with self.db:
            for e in entries:
                self.db.execute(
                    "INSERT OR REPLACE INTO records VALUES (?,?,?,?,?,?,?,?,?)",
                    (e.key, e.graph, e.checksum, e.datestamp, int(e.deleted), e.title, json.dumps(e.sets), e.source,
                     e.date))
                self.db.execute("DELETE FROM record_sets WHERE key = ?", (e.key,))
                self.db.executemany("INSERT OR IGNORE INTO record_sets VALUES (?, ?)", [(s, e.key) for s in e.sets])

    def put_sets(self, sets: dict[str, str]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO sets VALUES (?, ?)", sets.items())

    def put_people(self, rows: Iterable[tuple[str, str, int]]) -> None:
        """The people index in its display order (lod.statistics.Tally.people)."""
        with self.db:
            self.db.execute("DELETE FROM people")
            self.db.executemany("INSERT INTO people (iri, label, documents) VALUES (?, ?, ?)", rows)

    def people(self) -> list[tuple[str, str, int]] | None:
        """(IRI, label, documents) of every person, place and organisation, by label; None for a catalog
        written before builds kept them."""
        try:
            rows = self.db.execute("SELECT iri, label, documents FROM people ORDER BY position").fetchall()
        except sqlite3.OperationalError:        # no such table
            return None
        return [(r["iri"], r["label"], r["documents"]) for r in rows]

    def people_page(self, *, offset: int, limit: int, words: str = "") -> tuple[int, list[tuple[str, str, int]]] | None:
        """(total, one page of the people index), only labels containing ``words`` (lower case) if given;
        None for a catalog written before builds kept the index."""
        try:
            if words:      # lowering every label is the cost: once, for the count and the page together
                found = self.db.execute("SELECT iri, label, documents FROM people WHERE instr(lcase(label), ?) > 0 "
                                        "ORDER BY position", (words,)).fetchall()
                total, rows = len(found), found[offset:offset + limit]
            else:
                total = self.db.execute("SELECT COUNT(*) FROM people").fetchone()[0]
                rows = self.db.execute("SELECT iri, label, documents FROM people ORDER BY position LIMIT ? OFFSET ?",
                                       (limit, offset)).fetchall()
        except sqlite3.OperationalError:        # no such table
            return None
        return total, [(r["iri"], r["label"], r["documents"]) for r in rows]

    def set_meta(self, **values: str) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values.items())

    # reading
    def meta(self) -> dict[str, str]:
        if self._meta is not None:       # a published catalog never changes: read it once
            return dict(self._meta)
        found = {r["name"]: r["value"] for r in self.db.execute("SELECT name, value FROM meta")}
        if self.readonly:
            self._meta = found
        return dict(found)

    def get(self, key: str) -> CatalogEntry | None:
        row = self.db.execute("SELECT * FROM records WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def all(self) -> Iterator[CatalogEntry]:
        for row in self.db.execute("SELECT * FROM records ORDER BY key"):
            yield _entry(row)

    def listing(self, *, offset: int, limit: int, words: str = "", date_from: str = "",
                date_to: str = "") -> tuple[int, list[tuple[str, str, str]]] | None:
        """(total, [(key, title, date)]): published records by document date, then key, as the home and
        browse pages list them, optionally those whose title contains ``words`` (any case) and whose date
        is within ``date_from``..``date_to`` (prefixes: 1956, 1956-10): from the catalog rather than a
        scan and sort of every document in the store. None for a catalog written before builds kept
        the dates."""
        if not self.dated:
            return None
        where, args = ["deleted = 0"], []
        if words:
            where.append("instr(lcase(title), ?) > 0")
            args.append(words.lower())
        if date_from:
            where.append("date != '' AND date >= ?")
            args.append(date_from)
        if date_to:
            where.append("date != '' AND substr(date, 1, ?) <= ?")
            args += [len(date_to), date_to]
        cond = " AND ".join(where)
        if words:        # lowering every title is the cost: once, for the count and the page together
            found = self.db.execute(f"SELECT key, title, date FROM records WHERE {cond} ORDER BY date, key",
                                    args).fetchall()
            return len(found), [(r["key"], r["title"], r["date"]) for r in found[offset:offset + limit]]
        total = self.db.execute(f"SELECT COUNT(*) FROM records WHERE {cond}", args).fetchone()[0]
        rows = self.db.execute(f"SELECT key, title, date FROM records WHERE {cond} ORDER BY date, key "
                               "LIMIT ? OFFSET ?", [*args, limit, offset])
        return total, [(r["key"], r["title"], r["date"]) for r in rows]

    def sets(self) -> dict[str, str]:
        return {r["set_spec"]: r["name"] for r in self.db.execute("SELECT * FROM sets ORDER BY set_spec")}

    def page(self, *, start: str | None = None, until: str | None = None, set_spec: str | None = None,
             after: tuple[str, str] | None = None, limit: int = 100) -> list[CatalogEntry]:
        """Entries ordered by (datestamp, key), strictly after ``after``: keyset paging, flat memory."""
        sql, args = self._filter(start, until, set_spec)
        if after:
            sql += " AND (r.datestamp, r.key) > (?, ?)"
            args += list(after)
        sql += " ORDER BY r.datestamp, r.key LIMIT ?"
        args.append(limit)
        return [_entry(r) for r in self.db.execute(sql, args)]

    def count(self, *, start: str | None = None, until: str | None = None, set_spec: str | None = None) -> int:
        sql, args = self._filter(start, until, set_spec)
        return self.db.execute(sql.replace("SELECT r.*", "SELECT COUNT(*)"), args).fetchone()[0]

    def earliest(self) -> str | None:
        return self.db.execute("SELECT MIN(datestamp) FROM records").fetchone()[0]

    @staticmethod
    def _filter(start: str | None, until: str | None, set_spec: str | None) -> tuple[str, list[str]]:
        sql = "SELECT r.* FROM records r"
        args: list[str] = []
        sql += " WHERE 1=1"
        if set_spec:
            # EXISTS, not JOIN: a record in two subsets of ``set_spec`` must come once. Subsets by a
            # range (':' < ';'), not LIKE, whose '_' would match any character.
            sql += (" AND EXISTS (SELECT 1 FROM record_sets s WHERE s.key = r.key"
                    " AND (s.set_spec = ? OR (s.set_spec > ? AND s.set_spec < ?)))")
            args += [set_spec, set_spec + ":", set_spec + ";"]
        if start:
            sql += " AND r.datestamp >= ?"
            args.append(start)
        if until:
            sql += " AND r.datestamp <= ?"
            args.append(until)
        return sql, args


def _entry(row: sqlite3.Row) -> CatalogEntry:
    return CatalogEntry(key=row["key"], graph=row["graph"], checksum=row["checksum"], datestamp=row["datestamp"],
                        deleted=bool(row["deleted"]), title=row["title"], sets=json.loads(row["sets"]),
                        source=row["source"], date=row["date"] if "date" in row.keys() else "")


# ----------------------------------------------------------------------------------- reading
class EmbeddedStore:
    """Read-only view of the published build; reopens when a new build is published."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.layout = Layout(root)
        self.build: Path | None = None
        self.oxigraph: ox.Store | None = None
        self.catalog: Catalog | None = None
        self._pointer_mtime: float | None = None
        self.refresh(force=True)

    def refresh(self, force: bool = False) -> bool:
        """Reopen if CURRENT changed since the last look; a stat per call, cheap enough per request."""
        try:
            mtime = self.layout.pointer.stat().st_mtime_ns
        except FileNotFoundError:
            raise StoreError(f"no published dataset in {self.layout.root} (run `lod build`)") from None
        except OSError as exc:
            raise StoreError(f"store {self.layout.root} cannot be read: {exc.strerror or exc}") from None
        if not force and mtime == self._pointer_mtime:
            return False
        build = self.layout.current()
        assert build is not None
        try:
            store = ox.Store.read_only(str(build / "oxigraph"))
            catalog = Catalog(build / "catalog.sqlite", readonly=True)
            catalog.meta()
            if not (build / "dumps").is_dir():
                raise StoreError(f"dumps missing: {build / 'dumps'}")
        # RocksDB reports corruption (bad CURRENT/MANIFEST, table sizes, footers) as RuntimeError at open;
        # damage inside a data block is caught by its checksum when read (an error, never wrong data).
        except (OSError, sqlite3.Error, StoreError, RuntimeError, ValueError) as exc:
            raise StoreError(f"store {build} cannot be opened: {exc}") from exc
        self.oxigraph, self.catalog, self.build, self._pointer_mtime = store, catalog, build, mtime
        return True

    def query(self, sparql: str, **kwargs: object) -> ox.QuerySolutions | ox.QueryTriples | ox.QueryBoolean:
        """SPARQL over the published build; the default graph is the union of all graphs unless given."""
        if "default_graph" not in kwargs:
            kwargs.setdefault("use_default_graph_as_union", True)
        assert self.oxigraph is not None
        return self.oxigraph.query(sparql, **kwargs)

    @property
    def dumps(self) -> Path:
        assert self.build is not None
        return self.build / "dumps"


def open_store(settings: object) -> object:
    """The published dataset: an http(s) ``store`` URL is a remote SPARQL store (lod.remote), else a directory."""
    store = settings.store  # type: ignore[attr-defined]
    if isinstance(store, str) and store.lower().startswith(("http://", "https://")):
        from lod.remote import RemoteStore  # noqa: PLC0415 - requests only when a remote store is used

        return RemoteStore.from_settings(settings)
    return EmbeddedStore(store)
