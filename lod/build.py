"""`lod build`: record files + authority -> mapped, SHACL-validated, published dataset (atomic).

Pipeline (docs/cli.md, docs/mapping.md): load record files and the authority; map each record to
its own named graph; validate it (a Violation rejects the record: not published, reported with its
file, source untouched); stream every accepted quad into a fresh store under ``builds/<id>/`` with
the authority, ontology, provenance and enrichment graphs; write the catalog and the dumps; only
then switch ``CURRENT`` to the new build. A build that fails or is killed leaves the published
dataset as it was; the abandoned directory is pruned by a later build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from lod import __version__, described, diskspace, naming
from lod.build_records import Job, Pipeline, Reader, collecting_less, file_keys, workers_for
from lod.config import Settings
from lod.dumps import Background, ProvenanceDump, TurtleWriter, shared_graphs
from lod.mapping import Mapper, authority_quads, merge_unknown
from lod.mapping import namespaces as ns
from lod.mapping.vocab import CRM_RDFS, VOCAB_TTL, ontology_quads
from lod.oai.prepared import Preparer
from lod.provenance import Provenance
from lod.records import Record, RecordError
from lod.statistics import Stats, Tally
from lod.store import Catalog, CatalogEntry, Layout, StoreError
from lod.uris import Minter
from lod.validation import ValidationResult, validate_record

Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 1000
COMPLETE = "COMPLETE"       # written into a build directory once everything in it is in place
SET_ROOTS = {"archive": "Archives", "language": "Languages", "subject": "Subjects"}


class BuildError(RuntimeError):
    """The build cannot run at all (missing data folder, unreadable authority or store): exit code 2."""


@dataclass
class Rejection:
    """A record that was not published: its key, its file and why (SHACL results or a mapping error)."""

    key: str
    file: str
    results: list[ValidationResult] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [f"{self.file}: {r.located()}" for r in self.results if r.blocking] + \
               [f"{self.file}: {e.located()}" if e.file is None else e.located() for e in self.errors]


@dataclass
class BuildReport:
    build_dir: Path | None = None
    published: list[str] = field(default_factory=list)
    described: int = 0                  # documents whose description the build kept (lod.described)
    rejected: list[Rejection] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    no_qid: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)     # catalog entries newly marked deleted
    triples: int = 0
    stats: Stats | None = None          # VoID counts of the published dataset (lod.statistics)
    people: list[tuple[str, str, int]] | None = None    # the people index: (IRI, label, documents)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)   # stage -> seconds (read, map+load, dumps, ...)
    unknown_entities: dict[str, object] = field(default_factory=dict)   # minted for names not in the authority

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected or self.errors else 0


def _data_paths(settings: Settings) -> tuple[Path, Path, Path]:
    data = Path(settings.data)
    if not data.is_dir():
        raise BuildError(f"data folder {data} does not exist (set --data or LOD_DATA)")
    records = data / "records"
    if not records.is_dir():
        raise BuildError(f"no records folder {records} (run `lod import` first, or check --data)")
    return data, records, data / "authority.yaml"


def _load_authority(path: Path) -> object:
    from lod.authority import Authority

    try:
        return Authority.load(path)
    except RecordError as exc:
        raise BuildError(f"authority file unusable: {exc.located()}") from exc


def _record_files(records_dir: Path) -> tuple[list[tuple[Path, Record | None]], list[RecordError]]:
    """Every record file, to be read by the workers; files sharing a key are errors, as in load_all."""
    paths = sorted(records_dir.glob("*.yaml"))
    keys = file_keys(paths)
    by_key: dict[str, list[Path]] = {}
    for path, key in keys.items():
        if key is not None:
            by_key.setdefault(key, []).append(path)
    errors = []
    for key, dup in sorted(by_key.items()):
        if len(dup) > 1:
            names = ", ".join(str(p) for p in dup)
            errors.append(RecordError(f"duplicate record key in {len(dup)} files: {names}; none of them is published",
                                      file=str(dup[0]), record=key, field="key"))
    skip = {p for e in errors for p in by_key[e.record or ""]}
    return [(p, None) for p in paths if p not in skip], errors


def load_inputs(settings: Settings) -> tuple[object, list[tuple[Path, Record]], list[RecordError]]:
    """The authority and every record file; unreadable files and duplicate keys come back as errors."""
    from lod.authority import Authority
    from lod.sources.record_files import load_all

    _data, records_dir, authority_path = _data_paths(settings)
    try:
        authority = Authority.load(authority_path)
    except RecordError as exc:
        raise BuildError(f"authority file unusable: {exc.located()}") from exc
    records, errors = load_all(records_dir)
    return authority, records, errors


def _new_build(layout: Layout) -> Path:
    """A fresh build directory; build ids have one-second resolution, so a second build that
    starts within the same second as the last one (same process) waits for the next second."""
    for _ in range(3):
        try:
            return layout.new_build()
        except FileExistsError:
            time.sleep(1.0 - time.time() % 1.0 + 0.01)
    return layout.new_build()


def _clear_abandoned(layout: Layout, current: Path) -> None:
    """Remove builds a killed `lod build` left half-written (no COMPLETE marker, its process gone)."""
    for p in (layout.root / "builds").iterdir():
        if p == current or (p / COMPLETE).exists():
            continue
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _alive(int(pid)):
            continue            # another build is writing it right now
        shutil.rmtree(p, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _file_sha(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""


def _quietly(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception:  # noqa: BLE001 - cleaning up after a failure that is already being raised
        pass


def _previous(layout: Layout) -> dict[str, CatalogEntry]:
    try:
        current = layout.current()
    except StoreError as exc:
        raise BuildError(str(exc)) from exc
    if current is None or not (current / "catalog.sqlite").is_file():
        return {}
    try:
        cat = Catalog(current / "catalog.sqlite", readonly=True)
        try:
            return {e.key: e for e in cat.all()}
        finally:
            cat.close()
    except Exception as exc:  # noqa: BLE001 - any sqlite failure: the old catalog is unusable
        raise BuildError(f"previous catalog {current / 'catalog.sqlite'} unreadable: {exc}") from exc


def build(settings: Settings, *, progress: Progress | None = None) -> BuildReport:
    """Build and atomically publish the dataset; see the module docstring and docs/cli.md."""
    t0 = time.monotonic()
    if str(settings.store).startswith(("http://", "https://")):
        # --- remote SPARQL store (issue 7, lod/remote_build.py): the same pipeline into a staging
        # directory, then only the graphs whose checksum changed are sent to the store. ---
        from lod.remote_build import build_remote

        return build_remote(settings, progress=progress)
    data, records_dir, authority_path = _data_paths(settings)
    if progress:
        progress("reading", 0, 1)
    authority = _load_authority(authority_path)
    records, errors = _record_files(records_dir)         # read by the workers (lod/build_records.py)
    t_read = time.monotonic()
    minter = Minter(settings.base_uri)
    layout = Layout(settings.store)
    try:
        layout.root.mkdir(parents=True, exist_ok=True)
        previous = _previous(layout)
        build_dir = _new_build(layout)
    except OSError as exc:
        raise BuildError(f"store {layout.root} is not writable: {exc}") from exc
    report = BuildReport(build_dir=build_dir, errors=list(errors))
    report.timings["list files"] = t_read - t0
    try:
        _build_into(build_dir, settings, data, authority_path, authority, records, minter, previous, report,
                    progress)
        (build_dir / COMPLETE).write_text(f"{_now()} lod {__version__}\n")
        layout.publish(build_dir)
    except BaseException:
        shutil.rmtree(build_dir, ignore_errors=True)
        raise
    _clear_abandoned(layout, build_dir)
    layout.prune()
    report.seconds = time.monotonic() - t0
    return report


def _build_into(build_dir: Path, settings: Settings, data: Path, authority_path: Path, authority: object,
                records: list[tuple[Path, Record | None]], minter: Minter, previous: dict[str, CatalogEntry],
                report: BuildReport, progress: Progress | None, *, describe: bool = True) -> None:
    """``records``: (file, Record) pairs, or (file, None) for files the workers read themselves;
    ``describe``: keep each document's description (lod.described; a remote store's build does not)."""
    started = _now()
    prov = Provenance(minter, build_dir.name, started, data)
    onto = ontology_quads(minter.base, minter.ontology_graph)
    oai = Preparer(build_dir, settings, onto)      # OAI-PMH oai_dc + edm, rendered once (lod/oai/prepared.py)
    job = Job(Mapper(authority, minter), records, render_oai=oai.render, provenance=prov)  # type: ignore[arg-type]
    workers = workers_for(int(getattr(settings, "build_workers", 0) or 0), len(records))
    report.timings["workers"] = float(workers)
    entries: list[CatalogEntry] = []
    set_names: dict[str, str] = dict(SET_ROOTS)
    unknown: list[object] = []
    clock = report.timings
    for k in ("read", "map", "validate", "serialise", "oai prepare"):
        clock.setdefault(k, 0.0)
    withdrawn: list[tuple[str, str, Path]] = []
    named: set[str] = set()         # labelled in record graphs (lod.naming)
    seen: dict[str, Path] = {}
    tally = Tally(minter.base)

    def shared(quads: list[ox.Quad]) -> list[ox.Quad]:
        tally.add_quads(quads)
        return quads

    rel = prov.source           # a file as the report, the catalog and provenance name it

    def nquads(quads: list[ox.Quad]) -> bytes:
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)

    def chunks(pipeline: Pipeline, nt: Background, ttl: Background, prov_dump: ProvenanceDump) -> Iterator[bytes]:
        """N-Quads for the bulk loader; bookkeeping, dumps and OAI as each record comes back."""
        yield prov_dump.add(shared(prov.header()))
        yield nquads(shared(onto))
        sha = hashlib.sha256(CRM_RDFS.read_bytes() + VOCAB_TTL.read_bytes()).hexdigest()
        yield prov_dump.add(shared(prov.graph(minter.ontology_graph,
                                              "ontology/CIDOC_CRM_v7.1.3.rdf + ontology/vocab.ttl", sha)))
        report.triples += len(onto)
        total = len(records)
        if progress and total:
            progress("mapping", 0, total)
        check_at, nt_bytes = diskspace.checkpoints(total), 0
        headroom = int(getattr(settings, "disk_headroom_mb", -1))
        for done, p in enumerate(pipeline, 1):
            if done in check_at and (why := diskspace.check(build_dir, done, total, nt_bytes, headroom)):
                raise BuildError(why)
            if progress and (done % PROGRESS_EVERY == 0 or done == total):
                progress("mapping", done, total)
            for k, v in p.seconds.items():
                clock[k] += v
            if p.unreadable:
                report.errors.append(p.record_error())  # type: ignore[arg-type]
                continue
            if p.key in seen:       # a duplicate key the key-line pre-pass could not see
                report.errors.append(RecordError(
                    f"duplicate record key: also in {seen[p.key]}; this file is not published",
                    file=str(p.path), record=p.key, field="key"))
                continue
            seen[p.key] = p.path
            if p.withdrawn:
                withdrawn.append((p.key, p.title, p.path))
                continue
            report.warnings += p.warnings
            report.warnings += [f"{rel(p.path)}: {r.located()}" for r in p.results if not r.blocking]
            unknown.extend(p.unknown)
            named.update(p.named)
            if not p.accepted:
                err = p.record_error()
                report.rejected.append(Rejection(p.key, rel(p.path), [r for r in p.results if r.blocking],
                                                 [err] if err else []))
                continue
            graph = minter.record_graph(p.key)
            nt_bytes += len(p.nt)
            nt.write(p.nt)
            ttl.write(p.ttl)
            if p.oai is not None:
                oai.put(p.key, p.oai)
            yield p.nt.replace(b" .\n", f" <{graph}> .\n".encode())
            if p.prov is not None:      # made in the worker (lod.provenance)
                nt.write(p.prov.nt)
                ttl.write(p.prov.ttl)
                yield p.prov.nq
                tally.add_provenance(p.prov.quads, p.prov.classes)
                prov_dump.named.update(p.prov.named)
            if p.tally is not None:
                tally.add_record(p.tally)
            report.triples += p.triples
            report.published.append(p.key)
            old = previous.get(p.key)
            stamp = old.datestamp if old and not old.deleted and old.checksum == p.checksum else started
            entries.append(CatalogEntry(p.key, graph, p.checksum, stamp, False, p.title, sorted(p.sets),
                                        p.prov.source if p.prov else rel(p.path), p.date))
            set_names.update(p.sets)
        if progress and not total:
            progress("mapping", 0, 0)
        minted = merge_unknown(unknown)
        report.unknown_entities = minted
        auth = list(authority_quads(authority, minter, minted.values()))  # type: ignore[arg-type]
        report.warnings += [f"{rel(authority_path)}: {r.located()}" for r in validate_record(auth, "authority")]
        tally.add_authority(auth)
        yield nquads(auth)
        report.triples += len(auth)
        yield prov_dump.add(shared(prov.graph(minter.authority_graph, rel(authority_path),
                                              _file_sha(authority_path))))
        enrichment = data / "wikidata" / "enrichment.ttl"
        extra: list[ox.Quad] = []
        if enrichment.is_file():
            try:
                g = ox.NamedNode(minter.enrichment_graph)
                extra = [ox.Quad(t.subject, t.predicate, t.object, g)
                         for t in ox.parse(path=str(enrichment), format=ox.RdfFormat.TURTLE)]
            except (SyntaxError, OSError, ValueError) as exc:
                report.errors.append(RecordError(f"enrichment not loaded: {exc}", file=rel(enrichment)))
            else:
                yield nquads(shared(extra))
                report.triples += len(extra)
                yield prov_dump.add(shared(prov.graph(minter.enrichment_graph, rel(enrichment),
                                                      _file_sha(enrichment))))
        oai.put_names(naming.rows([(minter.authority_graph, auth), (minter.ontology_graph, onto),
                                   (minter.enrichment_graph, extra)], base=minter.base,
                                  authority_graph=minter.authority_graph, ontology_graph=minter.ontology_graph),
                      named | prov_dump.named)
        oai.close()

    dumps = build_dir / "dumps"
    dumps.mkdir()
    with collecting_less(), Pipeline(job, workers) as pipeline:  # forks before the store and writer threads exist
        nt = Background(dumps / "dataset.nt.gz")
        ttl = Background(dumps / "dataset.ttl.gz")
        ttl.write(TurtleWriter.header())
        prov_dump = ProvenanceDump(nt, ttl)
        store = ox.Store(str(build_dir / "oxigraph"))
        try:
            t = time.monotonic()
            # lenient: every IRI was validated when its term was made (ox.NamedNode) and the text is
            # pyoxigraph's own; checking each again cost 7 % of the load (the dumps, the same lines,
            # are parsed strictly in tests/test_build.py)
            store.bulk_load(Reader(chunks(pipeline, nt, ttl, prov_dump)), ox.RdfFormat.N_QUADS, lenient=True)
            report.timings["map+validate+load"] = time.monotonic() - t
            ended = [ox.Quad(prov.activity, ns.prov.endedAtTime, ox.Literal(_now(), datatype=ns.xsd.dateTime), prov.g)]
            store.extend(shared(ended))
            store.flush()
            report.stats = tally.stats()
            report.people = tally.people()
            if progress:
                progress("dumps", 0, 1)
            t = time.monotonic()
            prov_dump.add(ended)
            prov_dump.flush()
            shared_graphs(store, minter, nt, ttl)
            nt.close()
            ttl.close()
            report.timings["dumps"] = time.monotonic() - t
            if progress:
                progress("dumps", 1, 1)
        except BaseException:
            _quietly(oai.db.close)          # the prepared-OAI database goes with the failed build
            raise
        finally:
            nt.close(abandon=True)
            ttl.close(abandon=True)
            del store
        if describe and settings.describe_at_build:     # lod.described, in the same workers; the store is closed now
            t = time.monotonic()
            todo = len(report.published)
            if progress:
                progress("describing", 0, todo)
            report.described = described.write(build_dir, settings, list(report.published), {"built_at": started},
                                               run=pipeline.run, progress=progress)
            report.timings["describe"] = time.monotonic() - t
            if progress:
                progress("describing", todo, todo)

    report.no_qid = sorted({e.id for e in [*authority.entities.values(), *report.unknown_entities.values()]  # type: ignore[attr-defined]
                            if e.kind == "person" and e.published_qid() is None})
    report.withdrawn = sorted(key for key, _t, _p in withdrawn)
    for key, title, path in withdrawn:
        entries.append(CatalogEntry(key, minter.record_graph(key), "", started, True, title, [], rel(path)))
    t = time.monotonic()
    _write_catalog(build_dir / "catalog.sqlite", entries, previous, set_names, report, settings, started)
    report.timings["catalog"] = time.monotonic() - t


def _write_catalog(path: Path, entries: list[CatalogEntry], previous: dict[str, CatalogEntry],
                   set_names: dict[str, str], report: BuildReport, settings: Settings, started: str) -> None:
    # A change is stamped when it becomes visible (now, just before publishing), not when the build
    # started: a harvest that ran during the build began later than ``started`` and its next
    # incremental harvest (from = its start) must still see the change (docs/oai.md).
    visible = _now()
    for e in entries:
        if e.datestamp == started:
            e.datestamp = visible
    published = {e.key for e in entries if not e.deleted}
    for e in entries:       # a withdrawn record keeps the datestamp of its earlier deletion
        old = previous.get(e.key)
        if e.deleted and old and old.deleted:
            e.datestamp = old.datestamp
        elif e.deleted:
            report.deleted.append(e.key)
    listed = {e.key for e in entries}
    gone = []
    for key, old in sorted(previous.items()):
        if key in published or key in listed:
            continue
        if old.deleted:
            gone.append(old)
        else:
            gone.append(CatalogEntry(key, old.graph, old.checksum, visible, True, old.title, old.sets, old.source))
            report.deleted.append(key)
    cat = Catalog(path)
    try:
        cat.put(entries + gone)
        cat.put_sets({k: v for k, v in set_names.items()})
        if report.people is not None:
            cat.put_people(report.people)
        cat.set_meta(built_at=started, base_uri=settings.base_uri, version=__version__,
                     triples=str(report.triples), records=str(len(entries)),
                     **({"stats": report.stats.to_json()} if report.stats else {}))
    finally:
        cat.close()
