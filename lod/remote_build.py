"""`lod build` into a remote SPARQL store: the usual build, then only the changed graphs go over the wire.

Why staged: the records are mapped, validated, check-summed, given provenance, catalogued and dumped by
exactly the code that builds the embedded store (lod.build), into a private staging directory, so both
back ends publish the same quads. Then, against the checksums the remote catalog keeps:

1. graphs whose checksum changed (or that are new) are replaced whole, in batched SPARQL Updates (or
   Graph Store Protocol PUTs); graphs that no longer exist are dropped;
2. catalog rows that changed are rewritten, then the sets, then -- last -- the build stamp, which the
   web nodes watch;
3. the dumps and the prepared OAI-PMH records (oai.sqlite) are copied into ``store_dumps``, a folder
   the web nodes share, before the stamp.

A build that fails half-way leaves every graph it did replace recorded with its new checksum, so the
next build resumes rather than starts over.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from lod import build as pipeline
from lod.remote import RemoteStore
from lod.remote_catalog import graph_checksum
from lod.store import Catalog, CatalogEntry, StoreError
from lod.uris import Minter

BATCH_GRAPHS = 2000   # graphs read from staging and sent per replace_graphs call: bounded memory


def build_remote(settings: Any, *, progress: pipeline.Progress | None = None) -> pipeline.BuildReport:
    t0 = time.monotonic()
    data, _records, authority_path = pipeline._data_paths(settings)
    authority, records, errors = pipeline.load_inputs(settings)
    minter = Minter(settings.base_uri)
    try:
        store = RemoteStore.from_settings(settings)
        store.refresh(force=True)
        writer = store.writer()
        previous = {e.key: e for e in store.catalog.all()}
        remote_sums = writer.graph_checksums()
    except StoreError as exc:
        raise pipeline.BuildError(f"remote store {settings.store}: {exc}") from exc
    staging = Path(tempfile.mkdtemp(prefix="lod-remote-build-"))
    build_dir = staging / time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    build_dir.mkdir()
    report = pipeline.BuildReport(build_dir=None, errors=list(errors))
    try:
        pipeline._build_into(build_dir, settings, data, authority_path, authority, records, minter, previous,
                             report, progress, describe=False)    # served documents are described live
        cat = Catalog(build_dir / "catalog.sqlite", readonly=True)
        try:
            entries = list(cat.all())
            sets, meta = cat.sets(), cat.meta()
        finally:
            cat.close()
        t = time.monotonic()
        _sync_graphs(build_dir / "oxigraph", entries, remote_sums, minter, writer, progress)
        changed = [e for e in entries if _row(previous.get(e.key)) != _row(e)]
        store.catalog.put(changed)
        store.catalog.put_sets(sets)
        # dumps and the prepared OAI-PMH records go beside each other in the shared folder, before the
        # stamp: a node that sees the new stamp opens the new files
        report.build_dir = _publish_dumps(build_dir / "dumps", Path(settings.store_dumps),
                                          extra=[build_dir / "oai.sqlite"])
        store.catalog.set_meta(**meta)   # last: the stamp web nodes watch
        report.timings["remote load"] = time.monotonic() - t
    except StoreError as exc:
        raise pipeline.BuildError(f"remote store {settings.store}: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        store.close()
    report.remote = writer.report  # type: ignore[attr-defined]  # graphs replaced/dropped, update requests
    report.seconds = time.monotonic() - t0
    return report


def _row(e: CatalogEntry | None) -> tuple[Any, ...] | None:
    return None if e is None else (e.graph, e.checksum, e.datestamp, e.deleted, e.title, e.sets, e.source, e.date)


def _sync_graphs(oxigraph_dir: Path, entries: list[CatalogEntry], remote: dict[str, str], minter: Minter,
                 writer: Any, progress: pipeline.Progress | None) -> None:
    """Replace the graphs whose checksum differs from the remote's; drop those that are gone."""
    staged = ox.Store.read_only(str(oxigraph_dir))
    wanted: dict[str, str] = {e.graph: e.checksum for e in entries if not e.deleted}
    for graph in (minter.ontology_graph, minter.authority_graph, minter.provenance_graph, minter.enrichment_graph):
        node = ox.NamedNode(graph)
        if staged.contains_named_graph(node):
            wanted[graph] = graph_checksum(staged.quads_for_pattern(None, None, None, node))
    todo = [g for g, s in wanted.items() if remote.get(g) != s]
    writer.report.unchanged = len(wanted) - len(todo)
    for i in range(0, len(todo), BATCH_GRAPHS):
        if progress:
            progress("loading", i, len(todo))
        batch = todo[i:i + BATCH_GRAPHS]
        quads = {g: list(staged.quads_for_pattern(None, None, None, ox.NamedNode(g))) for g in batch}
        writer.replace_graphs(quads, {g: wanted[g] for g in batch})
    if progress:
        progress("loading", len(todo), len(todo))
    writer.drop_graphs(sorted(set(remote) - set(wanted)))


def _publish_dumps(src: Path, dest: Path, extra: list[Path] = ()) -> Path:  # type: ignore[assignment]
    """Copy each dump into ``dest`` atomically (a reader sees the old or the new file, never half)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in [*src.iterdir(), *(e for e in extra if e.is_file())]:
        tmp = dest / f".{f.name}.{os.getpid()}"
        shutil.copyfile(f, tmp)
        os.replace(tmp, dest / f.name)
    return dest
