"""Hostile ingest: pages, CSV cells and files, record files -> a record or a located error, nothing lost.

Through the public entry points: ``run_import`` (what ``lod import`` runs), ``csv_export.read_csv``,
``record_files.load_all`` (what ``lod build`` reads), and ``lod query --format csv|tsv`` for the CSV
we write. Related, not repeated here: tests/test_pages.py (every truncation point of both seeds),
tests/test_csv_export.py (missing/extra columns, wrong cell counts), tests/test_record_files.py.
"""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from hostile.conftest import count
from hostile.corpus import (
    CSV_CASES,
    CSV_FILE_CASES,
    PAGE_CASES,
    QUERY_CSV_CASES,
    RECORD_FILE_CASES,
    ROOT,
    SEED_B,
    Case,
    Err,
    page_bytes,
)
from lod.commands.importing import run_import
from lod.records import RecordError
from lod.sources import csv_export, record_files

CSV_SAMPLE = ROOT / "data" / "sources" / "csv" / "wilson_archive_sample.csv"
ROW_KEY = "300641"


def _get(obj: object, path: str) -> object:
    if path.startswith("len(") and path.endswith(")"):
        return len(_get(obj, path[4:-1]))  # type: ignore[arg-type]
    for part in path.split("."):
        name, _, index = part.partition("[")
        obj = getattr(obj, name)
        if index:
            obj = obj[int(index[:-1])]  # type: ignore[index]
    return obj


def _check_error(err: RecordError, expect: Err, file: str | None) -> None:
    assert isinstance(err, RecordError)
    if file is not None:
        assert err.file == file, err.located()
    assert (err.field or "") == expect.field or (not expect.field and True), err.located()
    assert expect.message in err.message, err.located()
    if expect.line is not None:
        assert err.line == expect.line, err.located()
    assert err.located().startswith(err.file or ""), err.located()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    shutil.copytree(ROOT / "data", d, ignore=shutil.ignore_patterns("sources"))
    return d


# ----------------------------------------------------------------------------------- pages
@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda c: c.id)
def test_page(case: Case, data: Path, tmp_path: Path) -> None:
    path = tmp_path / "in" / f"hostile-{case.id}.txt"
    path.parent.mkdir()
    path.write_bytes(page_bytes(case))
    t0 = time.monotonic()
    if isinstance(case.expect, Err):
        summary = run_import([path, SEED_B], data)
        assert time.monotonic() - t0 < 60
        assert len(summary.errors) == 1, [e.located() for e in summary.errors]
        err = summary.errors[0]
        _check_error(err, case.expect, str(path))
        assert err.record, err.located()                      # named by its slug
        # nothing else lost: the good page in the same run is imported
        assert summary.counts["unchanged"] + summary.counts["updated"] + summary.counts["created"] == 1
        assert record_files.load(data / "records" / "116814.yaml").title.startswith("Diary of Soviet Ambassador")
    else:
        summary = run_import([path], data)
        assert not summary.errors, [e.located() for e in summary.errors]
        rec = record_files.load(data / "records" / f"{case.expect.checks['key']}.yaml")
        for attr, value in case.expect.checks.items():
            assert _get(rec, attr) == value, (attr, _get(rec, attr))
        if case.id == "doctype-in-body":
            assert "<!DOCTYPE lolz" in rec.summary and len(rec.summary) < 5000    # verbatim, not expanded
    count("ingest")


# ----------------------------------------------------------------------------------- CSV cells
def _csv_with(column: str, value: str) -> str:
    rows = list(csv.DictReader(io.StringIO(CSV_SAMPLE.read_text(encoding="utf-8"))))
    row = next(r for r in rows if r["record_id"] == ROW_KEY)
    header = list(row)
    row = dict(row, **{column: value})
    if column == "document_url":
        row["record_id"] = ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, lineterminator="\n")
    w.writeheader()
    w.writerow(row)
    return buf.getvalue()


@pytest.mark.parametrize("case", CSV_CASES, ids=lambda c: c.id)
def test_csv_cell(case: Case, tmp_path: Path) -> None:
    column, value = case.input
    path = tmp_path / "export.csv"
    path.write_text(_csv_with(column, value), encoding="utf-8", newline="")
    t0 = time.monotonic()
    result = csv_export.read_csv(path)
    assert time.monotonic() - t0 < 30
    if isinstance(case.expect, Err):
        assert not result.rows and len(result.errors) == 1, [e.located() for e in result.errors]
        err = result.errors[0]
        _check_error(err, case.expect, str(path))
        assert err.line == 2, err.located()
        assert err.field == column or (column == "document_url" and err.field == "document_url"), err.located()
    else:
        assert not result.errors, [e.located() for e in result.errors]
        (row,) = result.rows
        for attr, expected in case.expect.checks.items():
            assert _get(row.record, attr) == expected, (attr, str(_get(row.record, attr))[:200])
    count("ingest")


def test_formula_cells_survive_lod_import_verbatim(data: Path, tmp_path: Path) -> None:
    """Through `lod import`: the record file keeps a formula as text, exactly (it is data, not a command)."""
    from hostile.corpus import FORMULAS

    path = tmp_path / "formulas.csv"
    path.write_text(_csv_with("summary", FORMULAS[0]), encoding="utf-8", newline="")
    summary = run_import([path], data, force=True)
    assert not summary.errors
    assert record_files.load(data / "records" / f"{ROW_KEY}.yaml").summary == FORMULAS[0]
    count("ingest")


def _csv_file(kind: str) -> bytes:
    text = CSV_SAMPLE.read_text(encoding="utf-8")
    header, _, rest = text.partition("\n")
    if kind == "nul":
        return text.replace("Economic Cooperation Division", "Economic\x00Cooperation Division", 1).encode()
    if kind == "unterminated":
        return (text.rstrip("\n") + "\n" + '"never closed,' + "x" * 1000 + "\n").encode()
    if kind == "header":
        return (header + "\n").encode()
    if kind == "formula-header":
        return (header.replace("title", "=HYPERLINK(title)", 1) + "\n" + rest).encode()
    raise ValueError(kind)


@pytest.mark.parametrize("case", CSV_FILE_CASES, ids=lambda c: c.id)
def test_csv_file(case: Case, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(_csv_file(case.input))
    result = csv_export.read_csv(path)
    if isinstance(case.expect, Err):
        assert result.errors
        _check_error(result.errors[-1], case.expect, str(path))
        if case.input == "unterminated":
            assert len(result.rows) == 11         # the rows before the broken one are kept
    else:
        assert not result.errors and len(result.rows) == case.expect.checks["rows"]
    count("ingest")


# ----------------------------------------------------------------------------------- record files
@pytest.mark.parametrize("case", RECORD_FILE_CASES, ids=lambda c: c.id)
def test_record_file(case: Case, data: Path) -> None:
    records = data / "records"
    good = sorted(p.name for p in records.glob("*.yaml"))
    path = records / "zz-hostile.yaml"
    path.write_bytes(case.input if isinstance(case.input, bytes) else case.input.encode("utf-8"))
    t0 = time.monotonic()
    loaded, errors = record_files.load_all(records)
    assert time.monotonic() - t0 < 30
    names = sorted(p.name for p, _ in loaded)
    if isinstance(case.expect, Err):
        assert names == good, "every other record still loads"
        assert len(errors) == 1, [e.located() for e in errors]
        _check_error(errors[0], case.expect, str(path))
        assert case.expect.field == "" or errors[0].field == case.expect.field, errors[0].located()
        assert not Path("/tmp/lod-pwned").exists()
    else:
        assert not errors, [e.located() for e in errors]
        rec = next(r for p, r in loaded if p == path)
        for attr, expected in case.expect.checks.items():
            assert _get(rec, attr) == expected
    count("ingest")


# ----------------------------------------------------------------------------------- CSV we write
@pytest.fixture(scope="module")
def formula_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sparql_support import make_store

    extra = [ox.Quad(ox.NamedNode(f"urn:x:{c.id}"), ox.NamedNode("urn:x:value"), ox.Literal(c.input),
                     ox.NamedNode("http://localhost:8080/graph/authority")) for c in QUERY_CSV_CASES]
    return make_store(tmp_path_factory.mktemp("formulas") / "store", "http://localhost:8080/", n_docs=1, extra=extra)


@pytest.mark.parametrize("case", QUERY_CSV_CASES, ids=lambda c: c.id)
def test_lod_query_csv_neutralises_formulas(case: Case, formula_store: Path) -> None:
    """`lod query --format csv` is for spreadsheets: a cell a spreadsheet would run as a formula is quoted.

    (--format tsv stays SPARQL 1.1 TSV: every literal is written in quotes, "=1+1", never bare.)
    """
    from lod.cli import cli

    q = f"SELECT ?v WHERE {{ <urn:x:{case.id}> <urn:x:value> ?v }}"
    r = CliRunner().invoke(cli, ["query", "--store", str(formula_store), "--format", "csv", q],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["v"] and rows[1][0] == case.expect, (r.stdout, case.expect)
    t = CliRunner().invoke(cli, ["query", "--store", str(formula_store), "--format", "tsv", q], catch_exceptions=False)
    assert t.stdout.splitlines()[1].startswith('"'), t.stdout      # TSV: a quoted literal
    count("ingest")
