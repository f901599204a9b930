"""`lod query`: SPARQL against the published local store (read-only; docs/cli.md).

The query goes the public endpoint's way, minus HTTP: the same static checks (lod.sparql.safety:
update refused, nesting and size limits, FROM only our graphs), then evaluation in a worker process
(lod.sparql.executor) that is killed at the time limit, because pyoxigraph cannot cancel a query and a
runaway one would otherwise hold this process (and its memory) until someone kills it by hand. With a
remote store the store evaluates, under the same time limit (lod.remote_sparql).

The default graph is the union of all graphs, as on the public endpoint. SELECT/ASK results print
as an aligned table, SPARQL 1.1 CSV (spreadsheet formulas neutralised, docs/security.md) or TSV, or
SPARQL 1.1 Results JSON; CONSTRUCT/DESCRIBE results as Turtle (table), N-Triples (csv/tsv/ntriples) or
JSON-LD (json).
Exit codes: 0 answered; 2 usage or system error (SPARQL syntax error, refused query, time limit, no
store, unreadable file).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import time
from typing import Any

import click
import pyoxigraph as ox

from lod.commands.options import COMMON, resolve, settings_options

FORMATS = ("table", "csv", "tsv", "json", "turtle", "ntriples")
NO_ROW_CAP = 2**62          # the command prints every row (the endpoint's sparql_max_rows is for the public)
WORKER_START = 60.0         # seconds a worker may take to start (not counted in --timeout)


class QueryFailed(Exception):
    """The query was refused or failed; the message is for the user (exit code 2)."""


def _fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        if term.language:
            return f"{term.value}@{term.language}"
        return term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return str(term)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_cell(term: Any) -> str:
    """A SPARQL 1.1 CSV cell, made safe for spreadsheets: text a spreadsheet would run as a formula
    (=, +, -, @, tab, CR first) gets a leading ' (OWASP "CSV injection"); plain numbers stay as they are."""
    text = "" if term is None else term.value if isinstance(term, ox.NamedNode | ox.Literal) else str(term)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(result: ox.QuerySolutions, out: Any) -> None:
    names = [v.value for v in result.variables]
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    w = csv.writer(text, lineterminator="\r\n")
    w.writerow(names)
    for sol in result:
        w.writerow([csv_cell(sol[n]) for n in names])
    text.flush()
    text.detach()


def table(variables: list[str], rows: list[list[str]], width: int = 80) -> str:
    """An aligned text table; long cells are cut to ``width`` characters."""
    cut = [[c if len(c) <= width else c[: width - 1] + "…" for c in r] for r in rows]
    widths = [max([len(v)] + [len(r[i]) for r in cut]) for i, v in enumerate(variables)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    out = [line(variables), line(["-" * w for w in widths])] + [line(r) for r in cut]
    return "\n".join(out) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})\n"


# ----------------------------------------------------------------------------------- evaluation
def _executor(store: Any, settings: Any) -> Any:
    """One worker process for the embedded store, started and ready; the store's own for a remote one."""
    from lod.sparql.executor import Executor

    remote = getattr(store, "sparql_executor", None)
    if remote is not None:
        return remote(settings)
    ex = Executor(workers=1, queue=0, replace=False)   # one query: a killed worker is not replaced
    ex.start()
    ready = time.monotonic() + WORKER_START
    while ex.alive < 1:
        if time.monotonic() > ready:
            ex.close()
            raise QueryFailed("the query worker process did not start")
        time.sleep(0.01)
    return ex


def evaluate(text: str, store: Any, settings: Any, timeout: float) -> Any:
    """The query's result as pyoxigraph objects: QueryBoolean, QuerySolutions, or a list of Triples.

    Checked first (lod.sparql.safety), then run in a worker with a hard limit of ``timeout`` seconds
    (the worker's start-up does not count). Raises QueryFailed with the reason.
    """
    from lod.sparql.endpoint import has_graph
    from lod.sparql.executor import Job, Overloaded, QueryTimeout, WorkerCrashed
    from lod.sparql.safety import Rejected, analyse, check

    try:
        a = analyse(text, base=settings.base_uri)
        if a.services:   # no federation here (nor network in the worker): the endpoint of `lod serve` has it
            raise QueryFailed(f"SERVICE <{a.services[0].endpoint}>: lod query does not call SERVICE endpoints; "
                              "send the query to the SPARQL endpoint of `lod serve`, which calls the allow-listed "
                              "ones.")
        check(a, allowlist=(), has_graph=has_graph(store))
    except Rejected as exc:
        raise QueryFailed(exc.message) from None
    # the worker writes a lossless format; the result is read back and printed as asked
    fmt = {"ASK": "json", "CONSTRUCT": "ntriples", "DESCRIBE": "ntriples"}.get(a.form, "tsv")
    build = getattr(store, "build", None)
    job = Job(store=str(build / "oxigraph") if build is not None else "", query=text, fmt=fmt,
              max_rows=NO_ROW_CAP, union=not a.has_dataset_clause, base_iri=settings.base_uri)
    ex = _executor(store, settings)
    try:
        out = ex.run(job, time.monotonic() + timeout, retry_after=1)
    except QueryTimeout:
        raise QueryFailed(f"query timeout: the query ran longer than the limit of {timeout:g} s and was "
                          "stopped (raise it with --timeout or LOD_SPARQL_TIMEOUT).") from None
    except WorkerCrashed as exc:
        raise QueryFailed(f"the query worker ended unexpectedly ({exc}); the query may need too much memory") \
            from None
    except Overloaded:
        raise QueryFailed("no query worker became free within the time limit") from None
    finally:
        ex.close()
    if out.kind == "syntax":
        raise QueryFailed(f"SPARQL syntax error: {out.message}")
    if out.kind != "ok":
        raise QueryFailed(f"query failed: {out.message}")
    if fmt == "ntriples":
        return list(ox.parse(out.body, ox.RdfFormat.N_TRIPLES))
    return ox.parse_query_results(out.body, ox.QueryResultsFormat.JSON if fmt == "json"
                                  else ox.QueryResultsFormat.TSV)


@click.command("query")
@click.argument("sparql", required=False)
@click.option("-f", "--file", "file", type=click.File("r", encoding="utf-8"), help="Read the query from FILE ('-' for standard input).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format (json: SPARQL 1.1 Results JSON, or JSON-LD for CONSTRUCT).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None, metavar="SECONDS",
              help="Stop the query after this many seconds (exit 2). [default: the sparql_timeout setting, "
                   "env LOD_SPARQL_TIMEOUT, 30]")
@settings_options(*COMMON)
def query_cmd(sparql: str | None, file: Any, fmt: str, timeout: float | None, **options: Any) -> None:
    """Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) against the local store.

    Give the query as an argument or with -f FILE. It is checked as on the public endpoint and runs
    in a separate process that is stopped at the time limit. Exit codes: 0 answered; 2 usage or
    system error (no query, SPARQL syntax error, a refused query such as an update, time limit
    reached, no published store).
    """
    from lod.store import StoreError, open_store

    if (sparql is None) == (file is None):
        raise click.UsageError("give a SPARQL query as an argument or with -f FILE (not both)")
    try:
        text = sparql if sparql is not None else file.read()
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{file.name}: not UTF-8 text (byte {exc.start}); a SPARQL query is UTF-8") from None
    if not text.strip():
        raise click.UsageError("the query is empty")
    settings = resolve(**options)
    limit = float(settings.sparql_timeout) if timeout is None else timeout
    try:
        store = open_store(settings)   # a directory, or a remote SPARQL store URL (lod.remote)
        result = evaluate(text, store, settings, limit)
    except (StoreError, QueryFailed) as exc:
        _fail(str(exc))
        return
    except (OSError, ValueError, RuntimeError) as exc:
        _fail(f"query failed: {exc}")
        return
    out = sys.stdout.buffer
    try:
        if isinstance(result, ox.QueryBoolean):
            if fmt == "json":
                out.write(result.serialize(format=ox.QueryResultsFormat.JSON) + b"\n")
            else:
                click.echo("true" if bool(result) else "false")
        elif isinstance(result, ox.QuerySolutions):
            if fmt == "csv":
                write_csv(result, out)      # for spreadsheets: formulas neutralised (docs/security.md)
            elif fmt in ("json", "tsv"):
                rf = {"json": ox.QueryResultsFormat.JSON, "tsv": ox.QueryResultsFormat.TSV}[fmt]
                out.write(result.serialize(format=rf))
                if fmt == "json":
                    out.write(b"\n")
            elif fmt in ("turtle", "ntriples"):
                raise click.UsageError(f"--format {fmt} is for CONSTRUCT/DESCRIBE; use table, csv, tsv or json")
            else:
                names = [v.value for v in result.variables]
                rows = [[_cell(sol[v]) for v in names] for sol in result]
                click.echo(table(names, rows), nl=False)
        else:
            rdf = {"json": ox.RdfFormat.JSON_LD, "csv": ox.RdfFormat.N_TRIPLES, "tsv": ox.RdfFormat.N_TRIPLES,
                   "ntriples": ox.RdfFormat.N_TRIPLES}.get(fmt, ox.RdfFormat.TURTLE)
            from lod.mapping.namespaces import PREFIXES

            kwargs = {"prefixes": PREFIXES} if rdf == ox.RdfFormat.TURTLE else {}
            out.write(ox.serialize(result, format=rdf, **kwargs))
        out.flush()
    except (OSError, ValueError, RuntimeError) as exc:
        _fail(f"query failed: {exc}")


__all__ = ["query_cmd", "table", "evaluate", "COMMON"]
