"""`lod import` end to end with the real sources: summary, exit codes, curator edits, new entities."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lod.authority import Authority
from lod.cli import cli
from lod.sources import record_files

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "data" / "sources"
PAGES = sorted((SOURCES / "pages").glob("*.txt"))
SAMPLE = SOURCES / "csv" / "wilson_archive_sample.csv"


@pytest.fixture
def data(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(ROOT / "data" / "authority.yaml", d / "authority.yaml")
    return d


def run(*args: str):
    return CliRunner().invoke(cli, ["import", *args], catch_exceptions=False)


def test_bundled_records_are_exactly_what_the_importer_writes(data):
    res = run(*map(str, PAGES), str(SAMPLE), "--data", str(data))
    assert res.exit_code == 0, res.output
    assert "imported 13 record(s) (created 13" in res.output and "errors 0" in res.output
    written = sorted(p.name for p in (data / "records").glob("*.yaml"))
    bundled = sorted(p.name for p in (ROOT / "data" / "records").glob("*.yaml"))
    assert written == bundled and len(written) == 13
    for name in written:
        assert (data / "records" / name).read_text(encoding="utf-8") == \
            (ROOT / "data" / "records" / name).read_text(encoding="utf-8"), name
    # the bundled authority already knows every name in the bundled sources
    assert (data / "authority.yaml").read_text(encoding="utf-8") == \
        (ROOT / "data" / "authority.yaml").read_text(encoding="utf-8")


def test_reimport_reports_unchanged_and_keeps_curator_edits(data):
    dirs = (str(SOURCES / "pages"), str(SOURCES / "csv"))                   # directories work too
    assert run(*dirs, "--data", str(data)).exit_code == 0
    res = run(*dirs, "--data", str(data))
    assert res.exit_code == 0 and "unchanged 13" in res.output
    target = data / "records" / "300638.yaml"
    target.write_text(target.read_text(encoding="utf-8").replace("\ndate: 1967-11\n", "\ndate: 1967-11-20\n"),
                      encoding="utf-8")
    res = run(str(SAMPLE), "--data", str(data))
    assert res.exit_code == 0 and "kept curator edits 1" in res.output
    assert f"kept curator edits in {target}" in res.output
    assert record_files.load(target).date == "1967-11-20"
    assert record_files.load(Path(str(target) + ".new")).date == "1967-11"
    res = run(str(SAMPLE), "--data", str(data), "--force")
    assert res.exit_code == 0 and "forced 1" in res.output
    assert record_files.load(target).date == "1967-11"


def test_usage_errors_exit_2(data, tmp_path):
    res = run(str(tmp_path / "nope.txt"), "--data", str(data))
    assert res.exit_code == 2 and "does not exist" in res.output
    assert run("--data", str(data)).exit_code == 2
    empty = tmp_path / "empty-dir"
    empty.mkdir()
    res = run(str(empty), "--data", str(data))
    assert res.exit_code == 2 and "no .txt or .csv files" in res.output


def _csv(rows: list[dict[str, str]]) -> str:
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") for k in header})
    return out.getvalue()


def test_bad_inputs_exit_1_and_everything_else_imports(data, tmp_path):
    bad_page = tmp_path / "bad-page.txt"
    bad_page.write_bytes(b"\xff\xfe\x00garbage")
    bad_csv = tmp_path / "more.csv"
    bad_csv.write_text(_csv([
        {"record_id": "900001", "title": "A good row", "text_body": "Text.", "original_publication_date": "1955"},
        {"record_id": "900002", "title": "A bad row", "text_body": "Text.", "authors": "[not json"},
        {"record_id": "116814", "title": "Same ID as seed B", "text_body": "Text."},
    ]), encoding="utf-8")
    res = CliRunner().invoke(cli, ["import", *map(str, PAGES), str(bad_page), str(bad_csv), "--data", str(data)])
    assert res.exit_code == 1
    assert f"error: {bad_page}:1, record bad-page, field text: binary data" in res.output
    assert f"{bad_csv}:3, record 900002, field authors: invalid JSON array" in res.output
    assert "record 116814, field record_id: duplicate record ID: also imported from" in res.output
    keys = sorted(p.stem for p in (data / "records").glob("*.yaml"))
    assert keys == sorted(["116814", "900001", PAGES[1].stem])
    assert record_files.load(data / "records" / "116814.yaml").title.startswith("Diary of Soviet Ambassador")


def test_record_whose_people_are_all_unknown_imports_and_grows_the_authority(data, tmp_path):
    src = tmp_path / "unknown.csv"
    src.write_text(_csv([{
        "record_id": "900010", "title": "Letter, Ivan Nobody to Petr Someone", "text_body": "Dear Petr, ...",
        "original_publication_date": "March 1958",
        "authors": '["Nobody, Ivan"]', "associated_people_orgs": '["Someone, Petr", "Union of Nobodies"]',
        "associated_places": '["Nowhereville"]',
    }]), encoding="utf-8")
    res = run(str(src), "--data", str(data))
    assert res.exit_code == 0, res.output
    assert "added 4 new authority entries without QIDs" in res.output
    auth = Authority.load(data / "authority.yaml")
    people = [auth.resolve("Nobody, Ivan"), auth.resolve("Someone, Petr")]
    assert [(e.label, e.kind, e.wikidata) for e in people] == [("Ivan Nobody", "person", ""),
                                                                ("Petr Someone", "person", "")]
    assert auth.resolve("Union of Nobodies").kind == "organization"
    assert auth.resolve("Nowhereville", "place").wikidata == ""
    rec = record_files.load(data / "records" / "900010.yaml")
    assert rec.date == "1958-03" and rec.authors == ["Nobody, Ivan"]


def test_content_detection_without_extension(data, tmp_path):
    src = tmp_path / "export"
    shutil.copy(SAMPLE, src)
    page = tmp_path / "page"
    shutil.copy(PAGES[0], page)
    from lod.commands.importing import detect
    assert (detect(src), detect(page)) == ("csv", "page")


def test_progress_bar_path_and_help(data, capsys):
    from lod.commands.importing import run_import
    summary = run_import([SAMPLE], data, progress=True)
    assert summary.counts["created"] == 11 and summary.errors == []
    assert "importing" in capsys.readouterr().err
    res = CliRunner().invoke(cli, ["import", "--help"])
    assert res.exit_code == 0 and "--force" in res.output and "--data" in res.output and "Exit codes" in res.output
