"""The per-record work of `lod build`, run in worker processes: map, validate, serialise, prepare OAI.

Mapping, SHACL validation, the sorted N-Triples of each record graph (checksum and dumps), its
Turtle and its prepared OAI-PMH formats are pure Python and take most of a build's time, so they
run in ``build_workers`` forked processes (default: one per CPU core) while the main process feeds
the store's bulk loader and writes the dumps. Workers inherit the records, authority and mapper by
fork and return plain data (:class:`Processed`) in record order, so the result does not depend on
the number of workers. One worker (or a platform without fork) runs everything in-process.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import gc
import hashlib
import itertools
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from lod.dumps import TurtleWriter, graph_checksum
from lod.mapping import Mapper, Spo
from lod.naming import ALT_LABEL, ENTITY_KINDS, LABELS
from lod.provenance import Provenance, RecordProvenance
from lod.records import Record, RecordError
from lod.statistics import RecordTally, mentions, record_tally
from lod.validation import ValidationResult, validate_record

Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 1000

CHUNK = 64                  # records per task sent to a worker
WINDOW = 8                  # tasks in flight (bounds the memory of results not yet loaded)
GC_THRESHOLD = 20_000       # allocations between young-generation collections in a worker (default 700)


@dataclass
class Processed:
    """One record after mapping and validation, as plain picklable data."""

    index: int
    path: Path
    key: str
    title: str = ""
    withdrawn: bool = False
    unreadable: bool = False     # the file itself is broken (error holds where); not a mapping rejection
    error: dict[str, Any] | None = None        # a RecordError's fields (exceptions with kwargs don't pickle)
    results: list[ValidationResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sets: dict[str, str] = field(default_factory=dict)
    unknown: list[Any] = field(default_factory=list)     # lod.authority.Entity minted for unknown names
    checksum: str = ""
    triples: int = 0
    nt: bytes = b""          # sorted N-Triples lines of the record graph
    named: list[str] = field(default_factory=list)    # IRIs it names that another document may link to
    ttl: bytes = b""         # the same as Turtle
    oai: tuple[bytes, ...] | None = None
    file_sha: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    tally: RecordTally | None = None    # its share of the dataset statistics (lod.statistics)
    prov: RecordProvenance | None = None    # its graph's provenance (lod.provenance)
    date: str = ""           # the document's earliest dcterms:date (the catalog lists documents by it)

    @property
    def accepted(self) -> bool:
        return not self.withdrawn and self.error is None and not any(r.blocking for r in self.results)

    def record_error(self) -> RecordError | None:
        return RecordError(**self.error) if self.error else None


@dataclass
class Job:
    """What every worker needs; set before the pool forks, so workers inherit it instead of receiving it."""

    mapper: Mapper
    records: list[tuple[Path, Record | None]]     # None: the worker reads the file (record_files.load)
    render_oai: Callable[[str, list[Spo], bytes], tuple[bytes, ...]] | None = None
    reference: bool = False      # pyshacl instead of the compiled shapes
    provenance: Provenance | None = None    # made with each accepted record when given


_JOB: Job | None = None
_TTL: TurtleWriter | None = None


def _error(exc: RecordError, path: Path, key: str) -> dict[str, Any]:
    return {"message": exc.message, "file": exc.file or str(path), "record": exc.record or key,
            "field": exc.field, "line": exc.line}


def process(job: Job, index: int, ttl: TurtleWriter) -> Processed:
    path, rec = job.records[index]
    t0 = time.perf_counter()
    raw: bytes | None = None
    if rec is None:
        from lod.sources.record_files import load

        try:
            raw = path.read_bytes()
        except OSError:
            pass                    # load() reads it again and says why it cannot
        try:
            rec = load(path, raw)
        except RecordError as exc:
            return Processed(index, path, exc.record or path.stem, unreadable=True, error=_error(exc, path, ""),
                             seconds={"read": time.perf_counter() - t0})
    t_read = time.perf_counter() - t0
    out = Processed(index, path, rec.key, rec.title.strip(), withdrawn=rec.withdrawn)
    if rec.withdrawn:
        return out
    t0 = time.perf_counter()
    try:
        mapped = job.mapper.map(rec)
    except RecordError as exc:
        out.error = _error(exc, path, rec.key)
        return out
    t1 = time.perf_counter()
    out.results = validate_record(mapped.triples, rec.key, reference=job.reference)
    t2 = time.perf_counter()
    out.warnings, out.sets, out.unknown = mapped.warnings, mapped.sets, mapped.unknown
    if out.accepted:
        out.checksum, lines = graph_checksum(mapped.triples)
        out.triples = len(lines)
        text = "".join(lines)
        out.nt = text.encode()
        out.named = named_in(mapped.triples, job.mapper.minter.base + "id/")
        out.tally = record_tally(text, job.mapper.minter.base)
        out.date = document_date(mapped.triples, job.mapper.minter.document(rec.key))
        out.tally.mentions = mentions(mapped.triples)
        out.ttl = ttl.render(lines)
        try:       # of the bytes just mapped: a file edited during the build cannot get another file's hash
            out.file_sha = hashlib.sha256(path.read_bytes() if raw is None else raw).hexdigest()
        except OSError:
            out.file_sha = ""
        if job.provenance is not None:
            out.prov = job.provenance.record(job.mapper.minter.record_graph(rec.key), path, out.file_sha, ttl)
    t3 = time.perf_counter()
    if out.accepted and job.render_oai is not None:
        out.oai = job.render_oai(rec.key, mapped.triples, out.nt)
    out.seconds = {"read": t_read, "map": t1 - t0, "validate": t2 - t1, "serialise": t3 - t2,
                   "oai prepare": time.perf_counter() - t3}
    return out


_NAMING = frozenset((*LABELS, ALT_LABEL))


def named_in(triples: list[Spo], ids: str) -> list[str]:
    """Subjects a record graph labels that the names table answers for (lod.naming): those outside
    ``{base}id/`` and our people, places and organisations. Describing looks the other things under
    ``{base}id/`` up in the store itself."""
    out: dict[str, None] = {}
    for s, p, _o in triples:
        if p in _NAMING and s.__class__ is ox.NamedNode:
            iri = s.value
            if iri not in out and (not iri.startswith(ids) or iri[len(ids):].partition("/")[0] in ENTITY_KINDS):
                out[iri] = None
    return list(out)


_DATE = ox.NamedNode("http://purl.org/dc/terms/date")


def document_date(triples: list[Spo], document: str) -> str:
    doc = ox.NamedNode(document)
    return min((o.value for s, p, o in triples if p == _DATE and s == doc), default="")


def _work(bounds: tuple[int, int]) -> list[Processed]:
    assert _JOB is not None and _TTL is not None
    return [process(_JOB, i, _TTL) for i in range(*bounds)]


def _init_worker() -> None:
    """Die with the parent: a `lod build` killed with SIGKILL must not leave workers behind.

    Also: what the worker inherited (records list, authority, mapper caches: ~360,000 objects at
    100,000 records) is frozen out of the cyclic collector, which otherwise scans it again and again
    while each record's short-lived statements trigger collections (and copies the pages it touches);
    the first generation's threshold is raised for the same reason. In process, over 6 x 400 records:
    4.84 against 5.11 ms per record (medians) in one comparison, within the noise in another."""
    global _TTL
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 50)
    _TTL = TurtleWriter()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:       # belt and braces where prctl is unavailable
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


@contextlib.contextmanager
def collecting_less() -> Iterator[None]:
    """The build process's cyclic collector, tuned as the workers' is (:func:`_init_worker`), while records stream.

    Why: the build process keeps what it learns of each record (catalog entries, paths, keys) and
    unpickles every worker's results, so the collector ran often and walked an ever larger heap (10,000
    records: 0.73 s in 738 + 67 + 6 collections, 0.22 s with this). None of that is cyclic garbage.
    What existed before is frozen out of it; on leaving, both are as they were."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


_KEY_LINE = re.compile(rb"^key:[ \t]*(.*?)[ \t]*$", re.M)
# a key written as `lod import` writes it ('116814'), or a decimal integer: YAML reads exactly these characters
_PLAIN_KEY = re.compile(rb"'([\x20-\x26\x28-\x7e]*)'|(0|[1-9][0-9]*)")     # printable ASCII but '


def file_keys(paths: list[Path]) -> dict[Path, str | None]:
    """Each record file's key from its top-level ``key:`` line, without parsing the whole file.

    Lets the build find keys used by several files (none of them is published, as
    record_files.load_all does) before the files are read in parallel. None: no such line or the
    file cannot be read; the full read reports why.
    """
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    keys: dict[Path, str | None] = {}
    for path in paths:
        try:
            m = _KEY_LINE.search(path.read_bytes())
            plain = _PLAIN_KEY.fullmatch(m.group(1)) if m else None
            if plain:               # what YAML reads it as, without YAML: 40 against 63 us a file
                keys[path] = (plain.group(1) if plain.group(1) is not None else plain.group(2)).decode()
                continue
            value = yaml.load(b"key: " + m.group(1), Loader=loader)["key"] if m else None  # noqa: S506
        except (OSError, yaml.YAMLError, TypeError, KeyError):
            value = None
        keys[path] = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    return keys


def workers_for(setting: int, n_records: int) -> int:
    """Processes to use: the setting if given (> 0), else one per core for a large enough build."""
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if setting > 0:
        return setting
    return max(1, min(os.cpu_count() or 1, n_records // (4 * CHUNK)))


class Pipeline:
    """Every record of a :class:`Job` processed, in record order, by ``workers`` processes.

    Create it before opening anything that must not be forked (the store, writer threads): the
    workers are forked here. Iterate once; ``close()`` (or leaving a ``with`` block) stops them. A
    worker that dies (out of memory, a crash) fails the build with BrokenProcessPool, never hangs it.
    """

    def __init__(self, job: Job, workers: int, chunk: int | None = None) -> None:
        global _JOB
        self.job, self.chunk = job, chunk or CHUNK
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            _JOB = job
            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_init_worker)
            for f in [self.pool.submit(os.getpid) for _ in range(workers)]:
                f.result()          # all workers forked now, before the caller starts any thread

    def __iter__(self) -> Iterator[Processed]:
        n = len(self.job.records)
        if self.pool is None:
            ttl = TurtleWriter()
            for i in range(n):
                yield process(self.job, i, ttl)
            return
        # a bounded window of chunks in flight: results wait in memory only as far as the loader lags
        bounds = iter([(a, min(a + self.chunk, n)) for a in range(0, n, self.chunk)])
        pending = collections.deque(self.pool.submit(_work, b) for b in itertools.islice(bounds, WINDOW))
        while pending:
            done = pending.popleft().result()
            nxt = next(bounds, None)
            if nxt is not None:
                pending.append(self.pool.submit(_work, nxt))
            yield from done

    def run(self, fn: Callable[..., Any], calls: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """``fn(*args)`` for each of ``calls``, in the workers (a bounded window in flight), results in order.
        For work after the records (lod.described): ``fn`` must be a module-level function."""
        if self.pool is None:
            for args in calls:
                yield fn(*args)
            return
        todo = iter(calls)
        pending = collections.deque(self.pool.submit(fn, *a) for a in itertools.islice(todo, WINDOW))
        while pending:
            done = pending.popleft().result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.append(self.pool.submit(fn, *nxt))
            yield done

    def close(self) -> None:
        global _JOB
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None
        _JOB = None

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Checked:
    """One record through mapping and validation (shared by `lod build` and `lod validate`)."""

    path: Path
    record: Record
    quads: list[ox.Quad]
    results: list[ValidationResult]
    warnings: list[str]
    sets: dict[str, str]
    error: RecordError | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None and not any(r.blocking for r in self.results)


def check_records(mapper: Mapper, records: list[tuple[Path, Record]], *, reference: bool = False,
                  progress: Progress | None = None, clock: dict[str, float] | None = None) -> Iterator[Checked]:
    """Map and validate each record (withdrawn ones are skipped); mapping errors reject, never raise.

    ``clock``: seconds spent mapping and validating are added to its "map" and "validate" keys.
    """
    clock = {} if clock is None else clock
    clock.setdefault("map", 0.0)
    clock.setdefault("validate", 0.0)
    total = len(records)
    for i, (path, rec) in enumerate(records):
        if progress and i % PROGRESS_EVERY == 0:
            progress("mapping", i, total)
        if rec.withdrawn:
            continue
        t0 = time.perf_counter()
        try:
            mapped = mapper.map(rec)
        except RecordError as exc:
            exc.file = exc.file or str(path)
            yield Checked(path, rec, [], [], [], {}, error=exc)
            continue
        t1 = time.perf_counter()
        results = validate_record(mapped.quads, rec.key, reference=reference)
        clock["map"] += t1 - t0
        clock["validate"] += time.perf_counter() - t1
        yield Checked(path, rec, mapped.quads, results, mapped.warnings, mapped.sets)
    if progress:
        progress("mapping", total, total)


class Reader:
    """A binary file over an iterator of byte chunks, for ``Store.bulk_load`` (which pulls as it parses)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.buf = memoryview(b"")
        self.pending: list[bytes] = []

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            rest = bytes(self.buf) + b"".join(self.chunks)
            self.buf = memoryview(b"")
            return rest
        while len(self.buf) < size:
            nxt = next(self.chunks, None)
            if nxt is None:
                break
            self.buf = memoryview(bytes(self.buf) + nxt) if self.buf else memoryview(nxt)
        out = bytes(self.buf[:size])
        self.buf = self.buf[size:]
        return out
