"""SPARQL query latency: our /sparql (`lod serve`) vs the Oxigraph server on the same quads, same run.

    python -m bench.sparql_bench [--records 2000] [--reps 31] [--write]

Steps: synthetic records (bench.generate) -> `lod.build.build` -> the store's quads dumped as N-Quads ->
`oxigraph load` + `oxigraph serve-read-only --union-default-graph` (bench.peers; never --timeout-s) and
`lod serve` on free loopback ports. Five queries over HTTP (GET, Accept SPARQL JSON, one keep-alive
client), interleaved ours/peer, after a warm-up; each answer's row count is checked equal on both sides.
Prints median/min/max per query and the ratio of medians (goal: <= 1.25); --write replaces the
"## SPARQL" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.peers import OxigraphPeer, free_port, wait_sparql

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
HEADING = "## SPARQL"
PRO = """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


def queries(person: str, graph: str) -> dict[str, str]:
    return {
        "documents by year": PRO + """SELECT ?year (COUNT(DISTINCT ?doc) AS ?documents) WHERE {
  ?doc a crm:E31_Document ; crm:P94i_was_created_by/crm:P4_has_time-span/crm:P82a_begin_of_the_begin ?b .
  BIND (YEAR(?b) AS ?year) } GROUP BY ?year ORDER BY ?year""",
        "documents referring to a person, with titles": PRO + f"""SELECT ?doc ?title WHERE {{
  ?doc crm:P67_refers_to <{person}> ; dcterms:title ?title }} ORDER BY ?doc""",
        "all triples of one document": f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
        "co-mentioned people, top 10": PRO + f"""SELECT ?other (COUNT(DISTINCT ?doc) AS ?n) WHERE {{
  ?doc crm:P67_refers_to <{person}> , ?other . ?other a crm:E21_Person . FILTER (?other != <{person}>)
}} GROUP BY ?other ORDER BY DESC(?n) ?other LIMIT 10""",
        "case-insensitive regex over titles": PRO + """SELECT ?doc ?title WHERE {
  ?doc a crm:E31_Document ; dcterms:title ?title . FILTER (REGEX(?title, "kosygin|telegram, yuri", "i")) }""",
    }


def build(n: int, tmp: Path) -> Path:
    from bench.generate import write_data
    from lod import config
    from lod.build import build as lod_build

    data = write_data(n, tmp / "data", progress=False)
    settings = config.load({"store": str(tmp / "store"), "data": str(data), "base_uri": BASE, "offline": True})
    report = lod_build(settings)
    if report.exit_code:
        sys.exit(f"sparql_bench: build failed: {report.errors[:3]} {report.rejected[:3]}")
    return tmp / "store"


def pick(store: Path) -> tuple[str, str, Path]:
    """The most referred person, a median record graph, and an N-Quads dump of the store."""
    from lod.store import EmbeddedStore

    st = EmbeddedStore(store)
    person = next(iter(st.query(PRO + "SELECT ?p (COUNT(*) AS ?n) WHERE { ?d crm:P67_refers_to ?p . "
                                      "?p a crm:E21_Person } GROUP BY ?p ORDER BY DESC(?n) LIMIT 1")))["p"].value
    keys = sorted(e.key for e in st.catalog.all())
    graph = f"{BASE}graph/document/{keys[len(keys) // 2]}"
    dump = store.parent / "dataset.nq"
    import pyoxigraph as ox

    st.oxigraph.dump(str(dump), format=ox.RdfFormat.N_QUADS)
    return person, graph, dump


def rows(body: bytes) -> int:
    import json

    data = json.loads(body)
    return len(data["results"]["bindings"])


_REP = iter(range(1, 1 << 62))


def measure(session: requests.Session, url: str, query: str, *, repeat: bool = False) -> tuple[float, int]:
    """One GET; unless ``repeat``, the query text gets a unique comment, so every request is evaluated
    (no server may answer it from a cache of earlier answers); ``repeat`` sends the text as given."""
    if not repeat:
        query = f"{query}\n# request {next(_REP)}"
    t = time.perf_counter()
    r = session.get(url, params={"query": query}, headers={"Accept": "application/sparql-results+json"},
                    timeout=120)
    took = time.perf_counter() - t
    if r.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {r.status_code}: {r.text[:300]}")
    return took * 1000, rows(r.content)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--reps", type=int, default=31)
    ap.add_argument("--write", action="store_true", help="replace the SPARQL section of bench/RESULTS.md")
    a = ap.parse_args(argv)
    reason = OxigraphPeer.available()
    if reason:
        sys.exit(f"sparql_bench: {reason}")
    tmp = Path(tempfile.mkdtemp(prefix="sparql-bench-"))
    lod_proc: subprocess.Popen[bytes] | None = None
    peer = OxigraphPeer(tmp)
    try:
        t0 = time.time()
        store = build(a.records, tmp)
        person, graph, dump = pick(store)
        print(f"built {a.records} records in {time.time() - t0:.1f} s; person {person}", file=sys.stderr)
        peer.load(dump)
        peer.start()
        port = free_port()
        lod_proc = subprocess.Popen(
            [sys.executable, "-c", "from lod.cli import main; main()", "serve", "--store", str(store), "--base-uri", BASE, "--port", str(port),
             "--workers", "1"], env={**os.environ, "LOD_QUERY_LOG": str(tmp / "query.log")},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        ours = f"http://127.0.0.1:{port}/sparql"
        wait_sparql(ours, 120, lod_proc)
        qs = queries(person, graph)
        results = []
        with requests.Session() as s_ours, requests.Session() as s_peer:
            for name, q in qs.items():
                for _ in range(5):   # warm-up: worker processes, caches, connections
                    measure(s_ours, ours, q)
                    measure(s_peer, peer.url, q)
                t_ours, t_peer = [], []
                for _ in range(a.reps):
                    ms, n_ours = measure(s_ours, ours, q)
                    t_ours.append(ms)
                    ms, n_peer = measure(s_peer, peer.url, q)
                    t_peer.append(ms)
                if n_ours != n_peer:
                    raise RuntimeError(f"{name}: {n_ours} rows from us, {n_peer} from the peer")
                measure(s_ours, ours, q, repeat=True)            # the identical text once: its answer is kept
                t_again = [measure(s_ours, ours, q, repeat=True)[0] for _ in range(a.reps)]
                mo, mp = statistics.median(t_ours), statistics.median(t_peer)
                results.append((name, n_ours, mo, min(t_ours), max(t_ours), mp, min(t_peer), max(t_peer), mo / mp,
                                statistics.median(t_again)))
        table = ["| query | rows | /sparql median (min-max) ms | Oxigraph server median (min-max) ms | ratio | "
                 "/sparql, identical text repeated (answer cache) ms |",
                 "|---|---|---|---|---|---|"]
        for name, n, mo, lo, hi, mp, plo, phi, ratio, again in results:
            mark = "" if ratio <= 1.25 else " (over goal)"
            table.append(f"| {name} | {n} | {mo:.2f} ({lo:.2f}-{hi:.2f}) | {mp:.2f} ({plo:.2f}-{phi:.2f}) | "
                         f"{ratio:.2f}{mark} | {again:.2f} |")
        print("\n".join(table))
        if a.write:
            write(a, table)
    finally:
        if lod_proc is not None and lod_proc.poll() is None:
            os.killpg(lod_proc.pid, signal.SIGTERM)
            try:
                lod_proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(lod_proc.pid, signal.SIGKILL)
        peer.stop()
        peer.cleanup()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


def write(a: argparse.Namespace, table: list[str]) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    section = "\n".join([
        HEADING, "",
        f"`python -m bench.sparql_bench --records {a.records} --reps {a.reps} --write` "
        f"({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, shared machine). Same quads in both: the build's "
        "store dumped as N-Quads, `oxigraph load` + `oxigraph serve-read-only --union-default-graph` (no "
        "--timeout-s) as the peer; ours is `lod serve --workers 1` (gunicorn) with its SPARQL worker processes. "
        "One keep-alive client, GET, Accept SPARQL JSON, interleaved ours/peer, 5 warm-up rounds; row counts "
        "checked equal. Goal: each median <= 1.25x the peer's.", "", *table, "",
        "Every timed request carries a unique comment (`# request N`), so both servers evaluate every "
        "request; the last column sends the identical text again, which ours answers from its response "
        "cache (docs/sparql.md, \"Repeated queries\"). Reading: both sides run the same engine "
        "(pyoxigraph/Oxigraph 0.5.13, union default graph), so queries that do real work (aggregation "
        "over all documents, regex over all titles, a join through every mention) land near 1.0x. What "
        "remains is a fixed cost per request of about 1 ms on this machine: gunicorn's Python HTTP "
        "parser and the asyncio front (~0.3 ms more than the Oxigraph server's HTTP layer, measured with "
        "a cached answer), the static checks (~0.05-0.2 ms, remembered for repeated texts), and the round "
        "trip over a Unix socket to the worker process that evaluates (~0.2 ms plus two process "
        "wake-ups: the price of a time limit that really kills the query; the Oxigraph server has none "
        "unless started with --timeout-s). Results are also written twice in the worker (TSV to count "
        "and cap the rows, then the requested format), ~0.4 ms for 200 rows. That fixed cost decides "
        "the ratio for queries the peer answers in 2-4 ms (one record graph). The machine is a 2-core "
        "box shared with other work: min-max ranges are wide; medians of interleaved runs are the figure "
        "to read, and they move by +-30 % between runs."])
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)


if __name__ == "__main__":
    main()
