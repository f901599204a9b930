"""`lod build`, `lod validate`, `lod query`: output, formats, exit codes (docs/cli.md).

CliRunner runs the real commands in-process; one test runs the installed `lod` script in a
subprocess, as a user would.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
import yaml
from click.testing import CliRunner

from lod.cli import cli
from tests.conftest import BASE, DATA, Built

SEED_B = "116814"
KEYS = sorted(p.stem for p in (DATA / "records").glob("*.yaml"))


def run(*args: str):  # noqa: ANN201 - click Result
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    dst = tmp_path / "data"
    shutil.copytree(DATA, dst, ignore=shutil.ignore_patterns("sources"))
    return dst


def q(built: Built, *args: str):  # noqa: ANN201
    return run("query", "--store", str(built.store), *args)


# ----------------------------------------------------------------------------------- build
def test_build_publishes_and_exits_0(tmp_path: Path, data: Path) -> None:
    res = run("build", "--store", str(tmp_path / "store"), "--data", str(data), "--no-progress")
    assert res.exit_code == 0, res.output
    assert f"published {len(KEYS)} record(s)" in res.stdout and "rejected 0" in res.stdout
    assert "people without a Wikidata link" in res.stdout and "liu-shaoqi" in res.stdout
    assert (tmp_path / "store" / "CURRENT").is_file()


def test_build_with_rejected_record_exits_1_and_names_it(tmp_path: Path, data: Path) -> None:
    (data / "records" / "blank-id.yaml").write_text(yaml.safe_dump({"key": "blank-id", "title": "T", "record_id": " "}))
    (data / "records" / "no-title.yaml").write_text(yaml.safe_dump({"key": "no-title", "title": ""}))
    res = run("build", "--store", str(tmp_path / "store"), "--data", str(data), "--no-progress")
    assert res.exit_code == 1
    assert f"published {len(KEYS)} record(s)" in res.stdout and "rejected 1" in res.stdout
    assert "rejected: records/blank-id.yaml: record blank-id" in res.stderr and "is empty" in res.stderr
    assert "no-title.yaml, record no-title, field title: missing title" in res.stderr


def test_build_base_uri_option(tmp_path: Path, data: Path) -> None:
    base = "http://example.org/lod/"
    assert run("build", "--store", str(tmp_path / "store"), "--data", str(data), "--base-uri", base).exit_code == 0
    res = run("query", "--store", str(tmp_path / "store"), "--format", "csv",
              f"SELECT ?t WHERE {{ <{base}id/document/{SEED_B}> <http://purl.org/dc/terms/title> ?t }}")
    assert res.exit_code == 0 and "Diary of Soviet Ambassador" in res.stdout


@pytest.mark.parametrize("problem", ["missing data", "no records", "store is a file", "broken authority"])
def test_build_system_errors_exit_2(tmp_path: Path, data: Path, problem: str) -> None:
    store = tmp_path / "store"
    if problem == "missing data":
        data = tmp_path / "nowhere"
    elif problem == "no records":
        shutil.rmtree(data / "records")
    elif problem == "store is a file":
        store.write_text("I am not a directory")
    else:
        (data / "authority.yaml").write_text("entities: [ {id: x, label: X, kind: alien} ]")
    res = run("build", "--store", str(store), "--data", str(data))
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ") and "Traceback" not in res.output


def test_progress_on_request(tmp_path: Path, data: Path) -> None:
    res = run("build", "--store", str(tmp_path / "store"), "--data", str(data), "--progress")
    assert f"mapping: {len(KEYS)}/{len(KEYS)} 100%" in res.stderr


def test_progress_says_elapsed_and_time_left_and_covers_the_line_it_overwrites(capsys) -> None:
    from lod.commands.building import _Progress

    now = [100.0]
    p = _Progress(True, clock=lambda: now[0])
    p("mapping", 0, 100_000)
    now[0] += 4
    p("mapping", 1_000, 100_000)          # 1% in but only 4 s old: too early to say
    now[0] += 56
    p("mapping", 10_000, 100_000)         # 10,000 a minute: 90,000 left, about 9 minutes
    now[0] += 3540
    p("mapping", 99_000, 100_000)
    now[0] += 60
    p("mapping", 100_000, 100_000)
    p("mapping", 100_000, 100_000)        # said once
    p("dumps", 0, 1)
    p("dumps", 1, 1)                      # under a second: no time given
    err = capsys.readouterr().err
    lines = err.replace("\r", "\n").splitlines()
    assert lines[0] == "mapping: 0/100000   0%"
    assert lines[1].rstrip() == "mapping: 1000/100000   1%"
    assert lines[2] == "mapping: 10000/100000  10% 1:00 elapsed, about 9:00 left"
    assert lines[3] == "mapping: 99000/100000  99% 1:00:00 elapsed, about 0:36 left"
    assert lines[4].startswith("mapping: 100000/100000 100% in 1:01:00")
    assert lines[5:] == ["dumps: 0/1   0%", "dumps: 1/1 100%"]
    assert err.count("mapping: 100000/100000") == 1
    # each overwritten line is at least as long as the line it overwrites, and a finished stage ends the line
    assert err.split("\r")[3].startswith("mapping: 99000/") and len(lines[4]) >= len(lines[3])
    assert "\n" in err and err.endswith("dumps: 1/1 100%\n")


# ----------------------------------------------------------------------------------- validate
def test_validate_all_valid_exits_0(data: Path) -> None:
    res = run("validate", "--data", str(data), "--no-warnings")
    assert res.exit_code == 0, res.output
    assert res.stdout == "" and f"{len(KEYS)} valid, 0 rejected, 0 unreadable" in res.stderr


def test_validate_prints_record_focus_path_message(data: Path) -> None:
    (data / "records" / "blank-id.yaml").write_text(yaml.safe_dump({"key": "blank-id", "title": "T", "record_id": " "}))
    (data / "records" / "bad-date.yaml").write_text(yaml.safe_dump({"key": "bad-date", "title": "T", "date": "1954-02-31"}))
    res = run("validate", "--data", str(data))
    assert res.exit_code == 1
    rows = [line.split("\t") for line in res.stdout.splitlines()]
    blank = [r for r in rows if r[0] == "blank-id" and r[4] == "Violation"]
    assert blank and blank[0][1] == "records/blank-id.yaml"
    assert blank[0][2] == f"{BASE}id/identifier/blank-id-record-id"
    assert blank[0][3] == "http://www.cidoc-crm.org/cidoc-crm/P190_has_symbolic_content" and "empty" in blank[0][5]
    assert any(r[0] == "bad-date" and r[3] == "date" and "1954-02-31" in r[5] for r in rows)
    assert any(r[4] == "Warning" and r[0] == "300237" for r in rows)       # warnings listed by default
    assert "1 rejected, 1 unreadable" in res.stderr


def test_validate_pyshacl_gives_the_same_lines(data: Path) -> None:
    (data / "records" / "blank-id.yaml").write_text(yaml.safe_dump({"key": "blank-id", "title": "T", "record_id": " "}))
    fast = run("validate", "--data", str(data))
    ref = run("validate", "--data", str(data), "--pyshacl")
    assert fast.exit_code == ref.exit_code == 1
    assert fast.stdout == ref.stdout and "(pyshacl)" in ref.stderr


def test_validate_missing_data_exits_2(tmp_path: Path) -> None:
    res = run("validate", "--data", str(tmp_path / "nowhere"))
    assert res.exit_code == 2 and "does not exist" in res.stderr


# ----------------------------------------------------------------------------------- query
def test_query_table(built: Built) -> None:
    res = q(built, "PREFIX owl: <http://www.w3.org/2002/07/owl#> SELECT DISTINCT ?q WHERE "
                   f"{{ <{BASE}id/person/joseph-stalin> owl:sameAs ?q }}")
    assert res.exit_code == 0
    assert res.stdout.splitlines()[0].strip() == "q" and "http://www.wikidata.org/entity/Q855" in res.stdout
    assert "(1 row)" in res.stdout


def test_query_csv_and_tsv(built: Built) -> None:
    query = f"SELECT ?p ?o WHERE {{ <{BASE}id/document/{SEED_B}> ?p ?o }} ORDER BY ?p"
    res = q(built, "--format", "csv", query)
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0] == ["p", "o"] and len(rows) > 20
    assert ["http://purl.org/dc/terms/identifier", SEED_B] in rows
    tsv = q(built, "--format", "tsv", query)
    assert tsv.stdout.startswith("?p\t?o\n")


def test_query_json_is_sparql_results_json(built: Built) -> None:
    res = q(built, "--format", "json", "PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/> "
                   f"SELECT ?who WHERE {{ <{BASE}id/document/{SEED_B}> crm:P67_refers_to ?who }}")
    doc = json.loads(res.stdout)
    assert doc["head"]["vars"] == ["who"]
    values = {b["who"]["value"] for b in doc["results"]["bindings"]}
    assert f"{BASE}id/person/karl-marx" in values and all(b["who"]["type"] == "uri" for b in doc["results"]["bindings"])
    ask = json.loads(q(built, "--format", "json", "ASK { ?s ?p ?o }").stdout)
    assert ask == {"head": {}, "boolean": True}
    assert q(built, "ASK { <urn:x:nothing> ?p ?o }").stdout.strip() == "false"


def test_query_construct_turtle_and_ntriples(built: Built) -> None:
    query = f"CONSTRUCT WHERE {{ <{BASE}id/person/joseph-stalin> ?p ?o }}"
    ttl = q(built, query)
    g = rdflib.Graph().parse(data=ttl.stdout, format="turtle")
    assert (rdflib.URIRef(f"{BASE}id/person/joseph-stalin"), rdflib.OWL.sameAs,
            rdflib.URIRef("http://www.wikidata.org/entity/Q855")) in g
    nt = q(built, "--format", "ntriples", query)
    assert len(rdflib.Graph().parse(data=nt.stdout, format="nt")) == len(g)
    jsonld = json.loads(q(built, "--format", "json", query).stdout)
    assert "Q855" in json.dumps(jsonld)


def test_query_from_file(built: Built, tmp_path: Path) -> None:
    f = tmp_path / "q.rq"
    f.write_text("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    res = q(built, "-f", str(f), "--format", "csv")
    assert res.exit_code == 0 and int(res.stdout.splitlines()[1]) > 5000


@pytest.mark.parametrize(("args", "message"), [
    (["SELEC ?x WHERE {}"], "SPARQL syntax error"),
    (["INSERT DATA { <urn:a> <urn:b> <urn:c> }"], "read-only: INSERT"),
    ([], "give a SPARQL query"),
    (["   "], "the query is empty"),
    (["--format", "turtle", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"], "is for CONSTRUCT"),
])
def test_query_usage_errors_exit_2(built: Built, args: list[str], message: str) -> None:
    res = q(built, *args)
    assert res.exit_code == 2 and message in res.output


def test_query_both_argument_and_file_is_usage_error(built: Built, tmp_path: Path) -> None:
    f = tmp_path / "q.rq"
    f.write_text("ASK {}")
    assert q(built, "ASK {}", "-f", str(f)).exit_code == 2


@pytest.mark.parametrize("problem", ["no store", "broken pointer", "not a store"])
def test_query_unreadable_store_exits_2(tmp_path: Path, problem: str) -> None:
    store = tmp_path / "store"
    if problem == "broken pointer":
        store.mkdir()
        (store / "CURRENT").write_text("nonexistent-build\n")
    elif problem == "not a store":
        (store / "builds" / "b1").mkdir(parents=True)
        (store / "CURRENT").write_text("b1\n")
        (store / "builds" / "b1" / "oxigraph").write_text("garbage")
    res = run("query", "--store", str(store), "ASK {}")
    assert res.exit_code == 2 and res.stderr.startswith("error: ") and "Traceback" not in res.output


# ----------------------------------------------------------------------------------- help, real script
@pytest.mark.parametrize("command", ["build", "validate", "query"])
def test_help_documents_options_and_exit_codes(command: str) -> None:
    res = run(command, "--help")
    assert res.exit_code == 0
    for option in ("--store", "--base-uri", "--data"):
        assert option in res.stdout
    assert "Exit codes" in res.stdout


def test_installed_script_end_to_end(tmp_path: Path, data: Path) -> None:
    lod = shutil.which("lod") or ""
    cmd = [lod] if lod else [sys.executable, "-c", "from lod.cli import main; main()"]
    store = str(tmp_path / "store")
    b = subprocess.run([*cmd, "build", "--store", store, "--data", str(data)], capture_output=True, text=True,
                       timeout=300)
    assert b.returncode == 0, b.stderr
    r = subprocess.run([*cmd, "query", "--store", store, "--format", "json",
                        f"ASK {{ <{BASE}id/document/{SEED_B}> a <http://www.cidoc-crm.org/cidoc-crm/E31_Document> }}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and json.loads(r.stdout)["boolean"] is True
