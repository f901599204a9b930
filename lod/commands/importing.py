"""`lod import PATH...`: document pages and CSV exports into curated record files.

Exit codes: 0 every input imported; 1 some inputs or rows had errors (all others imported);
2 usage error (no such path, bad option).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from lod.authority import Authority
from lod.commands.options import COMMON, resolve, settings_options
from lod.names import guess_kind
from lod.records import Record, RecordError
from lod.sources import csv_export, pages, record_files
from lod.sources.textfile import read_text

SUFFIXES = {".csv": "csv", ".txt": "page", ".text": "page"}


@dataclass
class Summary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(record_files.STATUSES, 0))
    errors: list[RecordError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kept: list[record_files.WriteResult] = field(default_factory=list)
    new_entities: list[str] = field(default_factory=list)


def detect(path: Path) -> str:
    """'csv' or 'page', by extension, else by content (a CSV header with a title column)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind:
        return kind
    try:
        first = read_text(path).split("\n", 1)[0]
    except RecordError:
        return "page"     # reading it again reports the problem
    return "csv" if "," in first and "title" in first.split(",") else "page"


def expand(paths: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in SUFFIXES)
        else:
            out.append(p)
    return out


def read_inputs(paths: list[Path], summary: Summary) -> Iterator[tuple[Record, dict[str, Any]]]:
    for path in paths:
        if detect(path) == "csv":
            result = csv_export.read_csv(path)
            summary.errors += result.errors
            summary.warnings += result.warnings
            for row in result.rows:
                yield row.record, row.provenance
        else:
            try:
                record = pages.read_page(path)
            except RecordError as exc:
                summary.errors.append(exc)
                continue
            yield record, {"source": path.name}


def register_names(record: Record, authority: Authority) -> list[str]:
    """Add names the authority does not know as entries without QIDs; return their labels."""
    context = " ".join([record.title, record.summary, record.body])
    names: list[tuple[str, str]] = []
    for n in [*record.authors, *record.people, *record.contributors]:
        names.append((n, guess_kind(n)))
    conv = record.conversation
    for n in [*record.addressees, *record.drafted_by, *record.typed_by, *record.filed_by,
              *record.obtained_by, *record.translated_by, *record.contributed_by, *record.transcribed_by,
              *(conv.participants + conv.present if conv else []),
              *[c for c in record.copies_sent if c.lower() not in ("file", "to file")]]:
        names.append((n, guess_kind(n)))
    names += [(p, "place") for p in record.places + ([conv.place] if conv and conv.place else [])]
    names += [(f, "organization") for f in record.funders]
    if record.citation.archive:
        archive = record.citation.archive
        if record.citation.archive_abbrev and record.citation.archive_abbrev != archive:
            archive = f"{archive} ({record.citation.archive_abbrev})"
        names.append((archive, "organization"))
    added = []
    for name, kind in names:
        if name.strip() and authority.resolve(name, kind) is None:
            added.append(authority.add_unknown(name, kind, context=context).label)
    return added


def run_import(paths: list[Path], data_dir: Path, *, force: bool = False,
               progress: bool | None = False) -> Summary:
    """Import every input; a bad input or row is reported and never stops the others."""
    summary = Summary()
    records_dir = data_dir / "records"
    auth_path = data_dir / "authority.yaml"
    authority = Authority.load(auth_path)
    items = list(read_inputs(paths, summary))
    if progress is None:   # a bar for long runs, or whenever someone is watching
        progress = len(items) > 500 or sys.stderr.isatty()
    sources: dict[str, str] = {}
    shown = click.progressbar(items, label="importing", file=sys.stderr) if progress else nullcontext(items)
    with shown as it:
        for record, prov in it:
            where = f"{prov.get('source')}" + (f":{prov['line']}" if "line" in prov else "")
            if record.key in sources:
                summary.errors.append(RecordError(
                    f"duplicate record ID: also imported from {sources[record.key]}; this one is skipped",
                    file=where, record=record.key, field="record_id"))
                continue
            sources[record.key] = where
            try:
                result = record_files.write(record, records_dir, force=force, provenance=prov)
            except (RecordError, OSError) as exc:
                summary.errors.append(exc if isinstance(exc, RecordError)
                                      else RecordError(str(exc), file=where, record=record.key))
                continue
            summary.counts[result.status] += 1
            if result.status == "kept":
                summary.kept.append(result)
            summary.new_entities += register_names(record, authority)
    if summary.new_entities:
        authority.save(auth_path)
    return summary


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=str))
@click.option("--force", is_flag=True, help="Overwrite record files even where a curator edited them.")
@settings_options(*COMMON)
def import_cmd(paths: tuple[str, ...], force: bool, **options: Any) -> None:
    """Import document pages (.txt) and CSV exports (.csv) into DATA/records/<key>.yaml.

    Unknown people, places and organisations are added to DATA/authority.yaml without Wikidata
    links. A record file a curator edited is never overwritten: the new import is written next
    to it as <key>.yaml.new (use --force to overwrite). Exit codes: 0 all imported; 1 some inputs
    had errors (the others were imported); 2 usage error.
    """
    settings = resolve(**options)
    files = expand(paths)
    if not files:
        raise click.UsageError("no .txt or .csv files found in the given paths")
    summary = run_import(files, Path(settings.data), force=force, progress=None)
    c = summary.counts
    click.echo(f"imported {c['created'] + c['updated'] + c['forced']} record(s) "
               f"(created {c['created']}, updated {c['updated']}, forced {c['forced']}), "
               f"unchanged {c['unchanged']}, kept curator edits {c['kept']}, errors {len(summary.errors)}")
    for result in summary.kept:
        click.echo(f"kept curator edits in {result.path}; new import written to {result.new_path}")
    if summary.new_entities:
        click.echo(f"added {len(summary.new_entities)} new authority entr"
                   f"{'y' if len(summary.new_entities) == 1 else 'ies'} without QIDs: "
                   + ", ".join(sorted(set(summary.new_entities))))
    for w in summary.warnings:
        click.echo(f"warning: {w}", err=True)
    for err in summary.errors:
        click.echo(f"error: {err.located()}", err=True)
    sys.exit(1 if summary.errors else 0)
