"""`lod build` and `lod validate` (docs/cli.md).

Exit codes: 0 success (warnings allowed); 1 some records rejected or unreadable (all others
published / valid); 2 usage or system error (missing data folder, unusable authority or store).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from lod.commands.options import COMMON, resolve, settings_options

SHOWN = 50      # warnings listed before "... and N more" (all with --verbose)


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class _Progress:
    """Progress on standard error for long runs: a line per stage step, only when it helps.

    Each line says how long the stage has run and, once it is 1% in and 5 s old, about how long it has
    left (at its pace so far): a million-record build maps for over an hour on two cores."""

    def __init__(self, enabled: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled, self.clock = enabled, clock
        self.last: tuple[str, int] | None = None
        self.started: dict[str, tuple[float, int]] = {}    # stage: (when, done) at its first line
        self.width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or (stage, done) == self.last:
            return
        self.last = (stage, done)
        now = self.clock()
        t0, d0 = self.started.setdefault(stage, (now, done))
        elapsed = now - t0
        end = "\n" if done >= total else "\r"
        pct = f" {100 * done // total:3d}%" if total else ""
        if done >= total:
            timing = f" in {_clock(elapsed)}" if elapsed >= 1 else ""
        elif (done - d0) * 100 >= total and elapsed >= 5:
            timing = f" {_clock(elapsed)} elapsed, about {_clock(elapsed * (total - done) / (done - d0))} left"
        else:
            timing = ""
        line = f"{stage}: {done}/{total}{pct}{timing}"
        pad = " " * max(0, self.width - len(line))      # a shorter line must cover the one it overwrites
        self.width = 0 if end == "\n" else len(line)
        click.echo(line + pad + end, err=True, nl=False)


def _progress(option: bool | None) -> _Progress:
    return _Progress(sys.stderr.isatty() if option is None else option)


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _list(lines: list[str], prefix: str, verbose: bool) -> None:
    shown = lines if verbose else lines[:SHOWN]
    for line in shown:
        click.echo(f"{prefix}{line}", err=True)
    if len(lines) > len(shown):
        click.echo(f"{prefix}... and {len(lines) - len(shown)} more (--verbose lists all)", err=True)


@click.command("build")
@click.option("--progress/--no-progress", default=None, help="Show progress on standard error [default: when a terminal].")
@click.option("--verbose", "-v", is_flag=True, help="List every warning and every person without a Wikidata link.")
@settings_options(*COMMON, "store_update", "store_user", "store_password", "store_protocol", "store_dumps", "build_workers", "disk_headroom_mb")
def build_cmd(progress: bool | None, verbose: bool, **options: Any) -> None:
    """Map DATA/records/*.yaml to CIDOC-CRM + Dublin Core, validate (SHACL) and publish to --store.

    One named graph per record, plus authority, ontology, provenance and Wikidata enrichment
    graphs. A record with a SHACL Violation is not published and is reported with its file; every
    other record is. The previous dataset stays published until the new build is complete.
    Exit codes: 0 built; 1 built, but some records were rejected or unreadable; 2 nothing built
    (usage or system error).
    """
    from lod.build import BuildError, build
    from lod.store import StoreError

    settings = resolve(**options)
    try:
        report = build(settings, progress=_progress(progress))
    except (BuildError, StoreError) as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        _fail(f"store {settings.store}: {exc}")
        return
    click.echo(f"published {len(report.published)} record(s) with {report.triples} triples to "
               f"{report.build_dir} in {report.seconds:.1f} s; rejected {len(report.rejected)}, "
               f"unreadable {len(report.errors)}, withdrawn {len(report.withdrawn)}, warnings {len(report.warnings)}")
    for rej in report.rejected:
        for msg in rej.messages():
            click.echo(f"rejected: {msg}", err=True)
    for err in report.errors:
        click.echo(f"error: {err.located()}", err=True)
    _list(report.warnings, "warning: ", verbose)
    if verbose:
        click.echo("timings: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items()))
    if report.no_qid:
        names = report.no_qid if verbose else report.no_qid[:SHOWN]
        more = f" ... and {len(report.no_qid) - len(names)} more" if len(names) < len(report.no_qid) else ""
        click.echo(f"people without a Wikidata link ({len(report.no_qid)}): {', '.join(names)}{more}")
    sys.exit(report.exit_code)


@click.command("validate")
@click.option("--pyshacl", "reference", is_flag=True, help="Use pyshacl (the reference validator; slow) instead of the compiled shapes.")
@click.option("--progress/--no-progress", default=None, help="Show progress on standard error [default: when a terminal].")
@click.option("--warnings/--no-warnings", "show_warnings", default=True, help="Also print Warning results.")
@settings_options(*COMMON)
def validate_cmd(reference: bool, progress: bool | None, show_warnings: bool, **options: Any) -> None:
    """Map and SHACL-validate DATA/records/*.yaml without publishing; print each result.

    One line per result: record, file, focus node, property path, severity and message.
    Exit codes: 0 every record valid (warnings allowed); 1 some records would be rejected or
    cannot be read; 2 usage or system error.
    """
    from lod.build import BuildError, load_inputs
    from lod.build_records import check_records
    from lod.mapping import Mapper
    from lod.uris import Minter

    settings = resolve(**options)
    try:
        authority, records, errors = load_inputs(settings)
    except BuildError as exc:
        _fail(str(exc))
        return
    data = Path(settings.data)
    mapper = Mapper(authority, Minter(settings.base_uri))  # type: ignore[arg-type]
    rejected = valid = 0
    for c in check_records(mapper, records, reference=reference, progress=_progress(progress)):
        file = _rel(c.path, data)
        if c.error:
            click.echo(f"{c.record.key}\t{file}\t-\t{c.error.field or '-'}\tViolation\t{c.error.message}")
        for r in c.results:
            if r.blocking or show_warnings:
                click.echo(f"{c.record.key}\t{file}\t{r.focus}\t{r.path or '-'}\t{r.severity}\t{r.message}")
        if show_warnings:
            for w in c.warnings:
                click.echo(f"{c.record.key}\t{file}\t-\t-\tWarning\t{w}")
        if c.accepted:
            valid += 1
        else:
            rejected += 1
    for err in errors:
        click.echo(f"{err.record or '-'}\t{err.file or '-'}\t-\t{err.field or '-'}\tViolation\t{err.message}")
    click.echo(f"{valid} valid, {rejected} rejected, {len(errors)} unreadable "
               f"({'pyshacl' if reference else 'compiled shapes'})", err=True)
    sys.exit(1 if rejected or errors else 0)


def _rel(path: Path, data: Path) -> str:
    try:
        return str(path.relative_to(data))
    except ValueError:
        return str(path)
