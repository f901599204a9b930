"""Dataset pages at scale: the home page, VoID, the browse listing, a search and the people index,
each the first request a fresh `lod serve` worker answers (nothing cached in the process yet).

    python -m bench.pages_bench [--records 10000] [--reps 3] [--store DIR] [--write]

Peer, same run, same quads: a copy of the build whose catalog lacks what the build now keeps (the
VoID counts and the people index of lod.statistics, the document dates behind the listing and the
searches by title and date), so the server counts and sorts over the store, as every build did before. The copy shares the Oxigraph files (hard links);
only its catalog.sqlite differs. Timings are wall clock per request; the worker's RSS is read from
/proc after the requests. --write replaces the "## Dataset pages" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import time
from pathlib import Path

import requests

from bench.build_bench import ensure_data
from bench.deref_bench import write_section
from bench.harness import LodServer
from bench.peers import rss_mb

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
PAGES = {
    "home page": ("", "text/html"),
    "VoID (Turtle)": (".well-known/void", "text/turtle"),
    "browse, first page": ("browse", "text/html"),
    "browse, page 100": ("browse?page=100", "text/html"),
    "search by title word": ("search?title=telegram", "text/html"),
    "people, places, organisations": ("browse/people", "text/html"),
}


def build(n: int, work: Path) -> Path:
    store = work / "store"
    if (store / "CURRENT").is_file():
        return store
    from lod import config
    from lod.build import build as run_build

    data = ensure_data(n, 1, work)
    run_build(config.load({"store": str(store), "data": str(data), "base_uri": BASE, "offline": True}))
    return store


def scan_copy(store: Path, dest: Path) -> Path:
    """The same build without the kept counts and dates: hard links, and a catalog of its own."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(store, dest, copy_function=os.link)
    name = (dest / "CURRENT").read_text().strip()
    cat = dest / "builds" / name / "catalog.sqlite"
    private = cat.with_suffix(".tmp")
    shutil.copyfile(cat, private)
    os.replace(private, cat)           # break the link before writing
    db = sqlite3.connect(cat)
    with db:
        db.execute("DELETE FROM meta WHERE name = 'stats'")
        db.execute("DROP INDEX IF EXISTS records_by_date")
        db.execute("ALTER TABLE records DROP COLUMN date")
        db.execute("DROP TABLE IF EXISTS people")
    db.close()
    return dest


def first_request(store: Path, path: str, accept: str) -> tuple[float, float]:
    """Start one worker, time its first request (nothing of the dataset cached yet), stop; (ms, RSS MB
    of the worker and its SPARQL worker after it)."""
    server = LodServer(store, BASE, workers=1, env={"LOD_SPARQL_TIMEOUT": "3600"})
    try:
        server.wait("robots.txt")
        t0 = time.perf_counter()
        r = requests.get(server.root + path, headers={"Accept": accept}, timeout=7200)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            raise RuntimeError(f"{path}: {r.status_code}")
        return ms, sum(rss_mb(pid) for pid in server.workers())
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=10_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--store", type=Path, help="an existing build of generated records (else built here)")
    ap.add_argument("--work", type=Path, default=ROOT / "var" / "bench")
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args(argv)
    work = a.work / f"pages-{a.records}"
    work.mkdir(parents=True, exist_ok=True)
    store = a.store or build(a.records, work)
    peer = scan_copy(store, work / "store-scan")
    runs: dict[str, dict[str, list[float]]] = {"kept": {p: [] for p in PAGES}, "scan": {p: [] for p in PAGES}}
    rss: dict[str, list[float]] = {"kept": [], "scan": []}
    try:
        for _ in range(a.reps):                        # interleaved
            for name, (path, accept) in PAGES.items():
                for label, where in (("kept", store), ("scan", peer)):
                    ms, mb = first_request(where, path, accept)
                    runs[label][name].append(ms)
                    rss[label].append(mb)
                    print(f"{label} {name}: {ms:,.0f} ms, RSS {mb:.0f} MB", flush=True)
    finally:
        shutil.rmtree(peer, ignore_errors=True)
    lines = [f"`python -m bench.pages_bench --records {a.records} --reps {a.reps}` "
             f"({time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}). Each page is the "
             "first request of a fresh server (one worker), medians (min-max) of the runs; *kept*: this build's catalog; "
             "*scan*: the same build with its catalog stripped of the kept counts, people index and dates (the "
             "server counts and sorts over the store, as before the build kept them).", "",
             "| page | kept, ms | scan, ms | scan / kept |", "|---|---|---|---|"]
    for name in PAGES:
        k, s = runs["kept"][name], runs["scan"][name]
        mk, ms = statistics.median(k), statistics.median(s)
        lines.append(f"| {name} | {mk:,.0f} ({min(k):,.0f}-{max(k):,.0f}) | {ms:,.0f} ({min(s):,.0f}-{max(s):,.0f})"
                     f" | {ms / mk:,.1f}x |")
    lines.append(f"| largest worker RSS after one of these requests, MB | {max(rss['kept']):.0f} | "
                 f"{max(rss['scan']):.0f} | |")
    body = "\n".join(lines)
    print(body)
    if a.write:
        write_section(body, "## Dataset pages")


if __name__ == "__main__":
    main()
