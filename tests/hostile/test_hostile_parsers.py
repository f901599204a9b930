"""Every place our code parses RDF/XML, JSON-LD, XML or YAML that came from outside, fed hostile payloads.

Where parsers are reached (the inventory below is checked against the code, so a new parser site
fails this module until it is reviewed):
- SERVICE answers of allow-listed endpoints (lod.sparql.federation: SPARQL XML/JSON/TSV results);
- answers of a remote SPARQL store (lod.remote: SPARQL JSON results, N-Triples/Turtle graphs);
- record files and the authority file (YAML, safe loaders), the review file (lod.reconcile.review);
- OAI-PMH prepared records (lxml, entities off, no network), enrichment Turtle, Wikidata JSON.
Request bodies are never parsed as RDF (tests/test_sparql_safety.py: JSON-LD @context bodies).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hostile.conftest import Counter, count, no_network
from hostile.corpus import AUTHORITY_CASES, REMOTE_ANSWER_CASES, ROOT, SERVICE_ANSWER_CASES, Case, Ok
from lod.records import RecordError

JSON = {"Accept": "application/sparql-results+json"}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ----------------------------------------------------------------------------------- SERVICE answers
@pytest.fixture(scope="module")
def evil(hostile_built, hostile_canary: Counter):  # noqa: ANN001, ANN201
    """One allow-listed loopback endpoint per case, each answering its hostile payload."""
    from conftest import make_app

    servers = {c.id: Counter((200, {"Content-Type": c.input[0]}, c.input[1](hostile_canary.url)))
               for c in SERVICE_ANSWER_CASES}
    app = make_app(hostile_built, sparql_workers=1, service_timeout=5.0,
                   service_allowlist=",".join(s.url for s in servers.values()))
    yield app, servers
    ep = app.extensions.get("lod_sparql")
    if ep is not None:
        ep.executor.close()
    for s in servers.values():
        s.close()


@pytest.mark.parametrize("case", SERVICE_ANSWER_CASES, ids=lambda c: c.id)
def test_service_answer(case: Case, evil, hostile_canary: Counter) -> None:  # noqa: ANN001
    app, servers = evil
    srv = servers[case.id]
    c = app.test_client()
    before = _rss_mb()
    t0 = time.monotonic()
    r = c.post("/sparql", headers=JSON, data={"query": f"SELECT * WHERE {{ SERVICE <{srv.url}> {{ ?x ?p ?o }} }}"})
    expected = case.expect or 502
    assert r.status_code == expected, (r.status_code, r.get_data(as_text=True)[:300])
    if expected == 502:
        assert f"SERVICE <{srv.url}>" in r.get_data(as_text=True)
    r = c.post("/sparql", headers=JSON,
               data={"query": f"SELECT * WHERE {{ SERVICE SILENT <{srv.url}> {{ ?x ?p ?o }} }}"})
    assert r.status_code == 200
    if expected == 502:
        assert json.loads(r.data)["results"]["bindings"] in ([], [{}])
    assert time.monotonic() - t0 < 30
    assert _rss_mb() - before < 400, "no expansion"
    assert srv.hits == 2                      # called by our code, as allow-listed
    assert hostile_canary.hits == 0           # ...and nothing it pointed at was fetched
    count("parsers")


# ----------------------------------------------------------------------------------- remote store answers
REMOTE_PROBE = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
    from lod.remote import RemoteStore
    from lod.store import StoreError
    store = RemoteStore(sys.argv[1], base_uri="http://localhost:8080/")
    try:
        result = store.query("CONSTRUCT WHERE { ?s ?p ?o }")
        triples = list(result)
        size = sum(len(str(t)) for t in triples)
        print("PARSED", len(triples), size)
    except (StoreError, SyntaxError, ValueError) as exc:
        print("REFUSED", type(exc).__name__, str(exc)[:300])
""")


@pytest.mark.parametrize("case", REMOTE_ANSWER_CASES, ids=lambda c: c.id)
def test_remote_store_answer(case: Case, hostile_canary: Counter, tmp_path: Path) -> None:
    ctype, make = case.input
    graph = make(hostile_canary.url)
    empty = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Store(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            wants_json = "sparql-results+json" in self.headers.get("Accept", "")
            body, ct = (empty, "application/sparql-results+json") if wants_json else (graph, ctype)
            self.send_response(200)
            self.send_header("Content-Type", ct)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Store)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        p = subprocess.run([sys.executable, "-c", REMOTE_PROBE, f"http://127.0.0.1:{srv.server_port}/sparql"],
                           capture_output=True, text=True, timeout=120, cwd=ROOT)
    finally:
        srv.shutdown()
        srv.server_close()
    out = p.stdout.strip()
    assert p.returncode == 0, f"the remote-store client died ({p.returncode}): {p.stderr[-800:]}"
    assert out.startswith("REFUSED"), out
    assert hostile_canary.hits == 0
    count("parsers")


# ----------------------------------------------------------------------------------- YAML the build reads
@pytest.mark.parametrize("case", AUTHORITY_CASES, ids=lambda c: c.id)
def test_authority_file(case: Case, tmp_path: Path) -> None:
    from lod.authority import Authority

    path = tmp_path / "authority.yaml"
    path.write_bytes(case.input if isinstance(case.input, bytes) else case.input.encode())
    t0 = time.monotonic()
    if isinstance(case.expect, Ok):
        auth = Authority.load(path)
        for attr, value in case.expect.checks.items():
            assert getattr(auth.entities["x"], attr) == value
    else:
        with pytest.raises(RecordError) as e:
            Authority.load(path)
        assert e.value.file == str(path) and case.expect.message in e.value.message, e.value.located()
    assert time.monotonic() - t0 < 20
    assert not Path("/tmp/lod-pwned").exists()
    count("parsers")


def test_lod_build_names_a_broken_authority_and_publishes_nothing_new(hostile_built, tmp_path: Path) -> None:  # noqa: ANN001
    import shutil

    from click.testing import CliRunner

    from lod.cli import cli
    data = tmp_path / "data"
    shutil.copytree(hostile_built.data, data)
    (data / "authority.yaml").write_text(next(c for c in AUTHORITY_CASES if c.id == "python-tag").input)
    r = CliRunner().invoke(cli, ["build", "--data", str(data), "--store", str(tmp_path / "store")])
    assert r.exit_code == 2 and "authority.yaml" in r.output, r.output
    assert not (tmp_path / "store" / "CURRENT").exists()
    count("parsers")


def test_enrichment_turtle_cannot_fetch(tmp_path: Path, hostile_canary: Counter) -> None:
    """data/wikidata/enrichment.ttl naming the canary in every IRI position: loaded as data, fetched never."""
    import shutil

    from conftest import DATA, build_into
    data = tmp_path / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("sources"))
    (data / "wikidata").mkdir()
    (data / "wikidata" / "enrichment.ttl").write_text(
        f"@base <{hostile_canary.url}> .\n@prefix c: <{hostile_canary.url}> .\n"
        f"<{hostile_canary.url}x> <http://www.w3.org/2002/07/owl#imports> <{hostile_canary.url}ontology.ttl> ;\n"
        "  <http://www.w3.org/2000/01/rdf-schema#seeAlso> <file:///etc/passwd>, c:more, <relative> .\n")
    with no_network() as guard:
        built = build_into(tmp_path, data=data)
    assert built.report.exit_code == 0 and guard.attempts == []
    assert hostile_canary.hits == 0
    count("parsers")


# ----------------------------------------------------------------------------------- inventory
PARSE_CALLS = {
    "parse": "rdf", "parse_query_results": "results", "fromstring": "xml", "XML": "xml", "load": "yaml/json",
    "safe_load": "yaml", "loads": "json", "full_load": "yaml", "unsafe_load": "yaml",
}
# (module, call) -> why its input is safe. Reviewed for issue 8; docs/security.md repeats it.
INVENTORY = {
    ("lod/authority.py", "load"): "authority.yaml: safe loader (CSafeLoader); errors located",
    ("lod/authority.py", "reader"): "sources/authority CSV (repository files)",
    ("lod/build.py", "parse"): "enrichment.ttl: Turtle (no fetching in the format); tested above",
    ("lod/build_records.py", "load"): "the key line of a record file: CSafeLoader/SafeLoader",
    ("lod/describe.py", "parse"): "the record graph's N-Triples our build wrote into the prepared file (oai.sqlite)",
    ("lod/render.py", "parse"): "a document's N-Triples lines: the prepared record graph plus lines we wrote (lod.nt_lines)",
    ("lod/commands/querying.py", "parse"): "lod query: N-Triples written by lod.sparql.results (worker)",
    ("lod/commands/querying.py", "parse_query_results"): "lod query: TSV/JSON written by lod.sparql.results",
    ("lod/mapping/vocab.py", "parse"): "the CRM RDFS and project vocabulary shipped in ontology/ (repository files)",
    ("lod/oai/formats.py", "fromstring"): "our own RDF/XML serialisation; XMLParser(resolve_entities=False, no_network=True)",
    ("lod/oai/prepared.py", "fromstring"): "our own prepared records; XMLParser(resolve_entities=False, no_network=True)",
    ("lod/naming.py", "loads"): "names table variants our build wrote into the prepared file (JSON lists)",
    ("lod/oai/tokens.py", "loads"): "resumption token payload, only after its HMAC verified",
    ("lod/reconcile/cache.py", "loads"): "our cache files (JSON)",
    ("lod/reconcile/client.py", "loads"): "Wikidata API answers: JSON only",
    ("lod/reconcile/enrich.py", "parse"): "our own enrichment.ttl (rdflib Turtle: no fetching)",
    ("lod/reconcile/review.py", "safe_load"): "review.yaml: yaml.safe_load",
    ("lod/remote.py", "loads"): "remote store SPARQL JSON results",
    ("lod/remote.py", "parse_query_results"): "remote store SPARQL JSON results",
    ("lod/remote.py", "parse"): "remote store graphs: N-Triples/Turtle only (RDF/XML and JSON-LD refused; tested above)",
    ("lod/remote_catalog.py", "loads"): "catalog rows in the remote store (JSON lists)",
    ("lod/remote_protocol.py", "loads"): "remote store SPARQL JSON results (Virtuoso quirks normalised)",
    ("lod/sources/csv_export.py", "loads"): "JSON-array cells; RecursionError located",
    ("lod/sources/record_files.py", "load"): "record files: libyaml safe loader, dates as text",
    ("lod/sparql/federation.py", "parse_query_results"): "SERVICE answers: XML/JSON/TSV results (no DTD entities)",
    ("lod/sparql/results.py", "parse_query_results"): "our own worker's TSV",
    ("lod/sparql/results.py", "parse"): "our own worker's N-Triples",
    ("lod/store.py", "loads"): "catalog rows (JSON lists) we wrote",
    ("lod/statistics.py", "loads"): "the dataset counts our build wrote into the catalog (or a remote store's "
                                    "catalog): a JSON object; anything else is counted again by SPARQL",
    ("lod/validation.py", "parse"): "our shapes (Turtle, repository files) and our own N-Triples",
}


# yaml.load(..., Loader=X): the X seen in the code; each is a SafeLoader/CSafeLoader (checked by reading them)
SAFE_LOADERS = {"_TextDates", "_Loader", "loader", "getattr(yaml, 'CSafeLoader', yaml.SafeLoader)"}


def _calls() -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    for path in sorted((ROOT / "lod").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = node.func.attr
            owner = node.func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if name in ("parse", "parse_query_results") and owner_name in ("ox", "pyoxigraph", "g", "graph", "old",
                                                                          "rdflib") or \
               name in ("fromstring", "XML") and owner_name == "etree" or \
               name in ("load", "safe_load", "full_load", "unsafe_load") and owner_name == "yaml" or \
               name in ("loads", "load") and owner_name == "json" or \
               name == "reader" and owner_name == "csv" and rel == "lod/authority.py":
                found.setdefault((rel, name), []).append(node.lineno)
            if name == "XMLParser":
                kw = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                assert kw.get("resolve_entities") is False and kw.get("no_network") is True, (rel, node.lineno)
            if name in ("load", "full_load", "unsafe_load") and owner_name == "yaml":
                loader = next((k.value for k in node.keywords if k.arg == "Loader"), None)
                src = ast.unparse(loader) if loader is not None else ""
                assert name == "load" and src in SAFE_LOADERS, (rel, node.lineno, src)
    return found


def test_parser_inventory_is_reviewed() -> None:
    found = _calls()
    new = sorted(set(found) - set(INVENTORY))
    assert not new, ("new parser call sites: review what input reaches them (trusted? entity expansion? "
                     f"remote fetches?), then add them to INVENTORY and docs/security.md: "
                     f"{[(k, found[k]) for k in new]}")
    count("parsers")


def test_no_rdflib_parser_sees_request_input() -> None:
    """rdflib parses only our own files (validation shapes, enrichment); never in lod/web or lod/sparql."""
    for path in list((ROOT / "lod" / "web").rglob("*.py")) + list((ROOT / "lod" / "sparql").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "import rdflib" not in text and "from rdflib" not in text, path
    count("parsers")


def test_pyoxigraph_rdfxml_parser_does_expand_entities() -> None:
    """Why the remote store refuses RDF/XML: pyoxigraph 0.5.13 expands internal DTD entities (10 KB -> 1 MB
    here, 10 GB for the full bomb). Kept as a control: if it stops expanding, the refusal can be relaxed."""
    import pyoxigraph as ox

    ents = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(5))
    doc = (f'<?xml version="1.0"?><!DOCTYPE r [{ents}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
           ' xmlns:ex="http://ex/"><rdf:Description rdf:about="http://ex/s"><ex:p>&f;</ex:p></rdf:Description></rdf:RDF>')
    (t,) = list(ox.parse(doc.encode(), format=ox.RdfFormat.RDF_XML))
    assert len(t.object.value) == 10 ** 6
    count("parsers")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_pyoxigraph_jsonld_never_fetches_a_remote_context(hostile_canary: Counter) -> None:
    import pyoxigraph as ox

    with pytest.raises(SyntaxError, match="remote context"):
        list(ox.parse(json.dumps({"@context": hostile_canary.url + "ctx", "@id": "urn:x"}).encode(),
                      format=ox.RdfFormat.JSON_LD))
    assert hostile_canary.hits == 0
    count("parsers")
