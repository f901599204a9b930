"""`lod query`: SPARQL against the published local store (read-only; docs/cli.md).

The default graph is the union of all graphs, as on the public endpoint. SELECT/ASK results print
as an aligned table, SPARQL 1.1 CSV (spreadsheet formulas neutralised, docs/security.md) or TSV, or
SPARQL 1.1 Results JSON; CONSTRUCT/DESCRIBE results as Turtle (table), N-Triples (csv/tsv/ntriples) or
JSON-LD (json).
Exit codes: 0 answered; 2 usage or system error (SPARQL syntax error, no store, unreadable file).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from typing import Any

import click
import pyoxigraph as ox

from lod.commands.options import COMMON, resolve, settings_options

FORMATS = ("table", "csv", "tsv", "json", "turtle", "ntriples")


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


@click.command("query")
@click.argument("sparql", required=False)
@click.option("-f", "--file", "file", type=click.File("r", encoding="utf-8"), help="Read the query from FILE ('-' for standard input).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format (json: SPARQL 1.1 Results JSON, or JSON-LD for CONSTRUCT).")
@settings_options(*COMMON)
def query_cmd(sparql: str | None, file: Any, fmt: str, **options: Any) -> None:
    """Run a SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE) against the local store.

    Give the query as an argument or with -f FILE. Exit codes: 0 answered; 2 usage or system
    error (no query, SPARQL syntax error, no published store).
    """
    from lod.store import StoreError, open_store

    if (sparql is None) == (file is None):
        raise click.UsageError("give a SPARQL query as an argument or with -f FILE (not both)")
    text = sparql if sparql is not None else file.read()
    if not text.strip():
        raise click.UsageError("the query is empty")
    settings = resolve(**options)
    try:
        store = open_store(settings)   # a directory, or a remote SPARQL store URL (lod.remote)
    except StoreError as exc:
        _fail(str(exc))
        return
    try:
        result = store.query(text, base_iri=settings.base_uri)
    except SyntaxError as exc:
        _fail(f"SPARQL syntax error: {exc}")
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

            triples = list(result)
            kwargs = {"prefixes": PREFIXES} if rdf == ox.RdfFormat.TURTLE else {}
            out.write(ox.serialize(triples, format=rdf, **kwargs))
        out.flush()
    except (OSError, ValueError, RuntimeError) as exc:
        _fail(f"query failed: {exc}")


__all__ = ["query_cmd", "table", "COMMON"]
