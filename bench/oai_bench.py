"""OAI-PMH harvest throughput: a full ListRecords (oai_dc) harvest over HTTP against `lod serve`.

    python -m bench.oai_bench [--records 100000] [--page-size 100] [--live-records 20000] [--write]
    python -m bench.oai_bench --records 100000 --prepare-only     # generate + build, nothing else

Steps: synthetic records (bench.generate) -> `lod.build.build` into the bench work folder, oai-<N> (kept and
reused by later runs: a 100,000-record build takes the better part of an hour here) -> `lod serve`
(gunicorn) on a free loopback port -> one harvester following resumption tokens to the end, as
harvesters do (one request at a time), counting records and checking each identifier arrives once.
The server's RSS (master + workers, from /proc) is sampled every 0.2 s during the harvest.

Peers, same run, same store:
- the same server with the build's prepared oai_dc hidden, so every record is rendered from the
  on-disk store (the path any build without lod/oai/prepared.py would take), over the first
  ``--live-records`` records;
- in process, no HTTP: the catalog keyset pages alone, and the catalog plus reading each document's
  statements back from the store (the floor of live rendering);
- sickle, the real harvester library, over the first ``--sickle-records`` records (client-bound:
  it parses every record into dicts).
--write replaces the "## OAI-PMH" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from bench.deref_bench import free_port, wait_http, write_section
from bench.peers import tree_pids

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
HEADING = "## OAI-PMH"
TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
IDENT = re.compile(rb"<header(?: status=\"deleted\")?><identifier>([^<]+)</identifier>")


# ----------------------------------------------------------------------------------- data
def prepare(records: int, work: Path) -> tuple[Path, dict[str, float]]:
    """Generate and build once; a marker file makes later runs reuse the store."""
    store, marker = work / "store", work / "built.ok"
    if marker.is_file() and (store / "CURRENT").is_file():
        return store, {}
    from bench.generate import write_data
    from lod import config
    from lod.build import build

    t0 = time.time()
    records_dir = work / "data" / "records"
    if not (work / "data" / "authority.yaml").is_file():
        shutil.rmtree(work, ignore_errors=True)
        write_data(0, work / "data", progress=False)          # authority.yaml; records below
    _write_records(records, records_dir)
    t1 = time.time()
    settings = config.load({"store": str(store), "data": str(work / "data"), "base_uri": BASE, "offline": True})
    report = build(settings, progress=_progress)
    t2 = time.time()
    if len(report.published) != records:
        raise RuntimeError(f"build published {len(report.published)} of {records}: {report.errors[:3]}")
    marker.write_text(f"{records}\n")
    return store, {"generate_s": t1 - t0, "build_s": t2 - t1}


def _write_records(n: int, records_dir: Path, seed: int = 1) -> None:
    """bench.generate records 0..n-1 as `write_data` writes them, in two processes, resuming a partial run."""
    from concurrent.futures import ProcessPoolExecutor

    existing = sorted(records_dir.glob("*.yaml"), key=lambda p: p.stat().st_mtime)
    for path in existing[-20:]:         # an interrupted run may have left the last files half-written
        path.unlink()
    chunks = [(lo, min(lo + 2000, n), records_dir, seed) for lo in range(0, n, 2000)]
    with ProcessPoolExecutor(2) as pool:
        for done, _ in enumerate(pool.map(_write_range, chunks), 1):
            if done % 5 == 0:
                print(f"  generated {min(done * 2000, n)}/{n}", file=sys.stderr)


def _write_range(job: tuple[int, int, Path, int]) -> None:
    from bench.generate import people, record
    from lod.sources.record_files import dumps

    lo, hi, records_dir, seed = job
    pool = people(seed)
    for i in range(lo, hi):
        rec = record(i, seed, pool)
        path = records_dir / f"{rec.key}.yaml"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_text(dumps(rec, {"source": "bench/generate.py"}), encoding="utf-8")
            tmp.rename(path)


_last = [0.0]


def _progress(stage: str, done: int, total: int) -> None:
    if time.time() - _last[0] > 30:
        _last[0] = time.time()
        print(f"  build: {stage} {done}/{total}", file=sys.stderr)


# ----------------------------------------------------------------------------------- server
class Server:
    def __init__(self, store: Path, page_size: int, workers: int) -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "LOD_OAI_PAGE_SIZE": str(page_size)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from lod.cli import main; main()", "serve", "--store", str(store),
             "--base-uri", BASE, "--port", str(self.port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.url = f"http://127.0.0.1:{self.port}/oai"
        wait_http(self.url + "?verb=Identify", timeout=120)

    def pids(self) -> list[int]:
        return tree_pids(self.proc.pid)

    def rss_mb(self) -> float:
        total = 0
        for pid in self.pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)


class Sampler(threading.Thread):
    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server, self.samples, self.stop_flag = server, [], threading.Event()

    def run(self) -> None:
        while not self.stop_flag.is_set():
            self.samples.append((time.time(), self.server.rss_mb()))
            time.sleep(0.2)


def harvest(url: str, limit: int | None = None, prefix: str = "oai_dc") -> dict[str, float]:
    """Follow the tokens to the end (or ``limit`` records); every identifier must arrive once."""
    session = requests.Session()
    seen: set[bytes] = set()
    n = pages = size = 0
    t0 = time.time()
    params = {"verb": "ListRecords", "metadataPrefix": prefix}
    while True:
        resp = session.get(url, params=params, timeout=120)
        body = resp.content
        if resp.status_code != 200 or b"<error" in body:
            raise RuntimeError(f"harvest failed after {n} records: {body[:500]!r}")
        ids = IDENT.findall(body)
        seen.update(ids)
        n += len(ids)
        pages += 1
        size += len(body)
        m = TOKEN.search(body)
        if not m or (limit and n >= limit):
            break
        params = {"verb": "ListRecords", "resumptionToken": m.group(1).decode()}
    dt = time.time() - t0
    if len(seen) != n:
        raise RuntimeError(f"{n - len(seen)} duplicate identifiers")
    return {"records": n, "pages": pages, "seconds": dt, "rps": n / dt, "bytes_per_record": size / max(n, 1)}


def sickle_harvest(url: str, limit: int) -> dict[str, float]:
    from sickle import Sickle

    t0 = time.time()
    n = 0
    for _rec in Sickle(url, timeout=120).ListRecords(metadataPrefix="oai_dc"):
        n += 1
        if n >= limit:
            break
    dt = time.time() - t0
    return {"records": n, "seconds": dt, "rps": n / dt}


def in_process(store_dir: Path, limit: int) -> dict[str, float]:
    """Catalog keyset pages alone, then catalog + each document's statements read back from the store."""
    import pyoxigraph as ox

    from lod.store import EmbeddedStore
    from lod.uris import Minter

    store = EmbeddedStore(store_dir)
    minter = Minter(BASE)
    t0 = time.time()
    n, after = 0, None
    while n < limit:
        page = store.catalog.page(after=after, limit=100)
        if not page:
            break
        after = (page[-1].datestamp, page[-1].key)
        n += len(page)
    catalog_rps = n / (time.time() - t0)
    t0 = time.time()
    n, after, quads = 0, None, 0
    while n < limit:
        page = store.catalog.page(after=after, limit=100)
        if not page:
            break
        for e in page:
            for q in store.oxigraph.quads_for_pattern(ox.NamedNode(minter.document(e.key)), None, None,
                                                      ox.NamedNode(e.graph)):
                quads += 1
                q.object  # noqa: B018 - materialise the term as rendering does
        after = (page[-1].datestamp, page[-1].key)
        n += len(page)
    return {"catalog_rps": catalog_rps, "read_rps": n / (time.time() - t0), "doc_quads": quads / max(n, 1)}


def run_harvest(store: Path, page_size: int, workers: int, limit: int | None = None) -> tuple[dict, dict]:
    server = Server(store, page_size, workers)
    try:
        idle = server.rss_mb()
        sampler = Sampler(server)
        sampler.start()
        result = harvest(server.url, limit)
        sampler.stop_flag.set()
        sampler.join()
        rss = [r for _t, r in sampler.samples] or [idle]
        n = len(rss)
        mem = {"idle": idle, "first_quarter_max": max(rss[: max(1, n // 4)]), "max": max(rss),
               "last_quarter_max": max(rss[-max(1, n // 4):]), "end": rss[-1], "samples": n}
        return result, mem
    finally:
        server.stop()


# ----------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--live-records", type=int, default=20_000)
    ap.add_argument("--sickle-records", type=int, default=20_000)
    ap.add_argument("--prepare-only", action="store_true")
    ap.add_argument("--write", action="store_true", help="write the ## OAI-PMH section of bench/RESULTS.md")
    args = ap.parse_args(argv)
    work = ROOT / "bench" / "work" / f"oai-{args.records}"
    store, build_times = prepare(args.records, work)
    if build_times:
        print(f"generated in {build_times['generate_s']:.0f}s, built in {build_times['build_s']:.0f}s",
              file=sys.stderr)
    if args.prepare_only:
        return
    from lod.store import Layout

    current = Layout(store).current()
    prepared = current / "oai.sqlite"
    oai_mb = prepared.stat().st_size / 2**20
    ox_mb = sum(f.stat().st_size for f in (current / "oxigraph").rglob("*") if f.is_file()) / 2**20

    full, mem = run_harvest(store, args.page_size, args.workers)
    print(f"prepared: {full}", file=sys.stderr)
    hidden = prepared.with_name("oai.sqlite.hidden-by-bench")
    prepared.rename(hidden)
    try:
        live, live_mem = run_harvest(store, args.page_size, args.workers, args.live_records)
    finally:
        hidden.rename(prepared)
    print(f"live: {live}", file=sys.stderr)
    server = Server(store, args.page_size, args.workers)
    try:
        sk = sickle_harvest(server.url, args.sickle_records)
    finally:
        server.stop()
    floor = in_process(store, args.live_records)
    print(f"sickle: {sk}\nin process: {floor}", file=sys.stderr)

    ok = full["records"] == args.records
    lines = [
        f"Full ListRecords harvest, `oai_dc`, of {full['records']:,} synthetic records (bench.generate, "
        f"built with `lod.build`), over HTTP against `lod serve` (gunicorn, {args.workers} workers), one harvester "
        f"following resumption tokens (page size {args.page_size}, {full['pages']:,} requests), every identifier "
        f"checked to arrive exactly once ({'yes' if ok else 'NO'}). Machine: {os.cpu_count()} cores shared with "
        "the harvester and other work; same run for every row.",
        "",
        "| harvest | records | seconds | records/s |",
        "|---|---|---|---|",
        f"| **`lod serve`, oai_dc prepared by the build** | {full['records']:,} | {full['seconds']:.1f} | "
        f"**{full['rps']:,.0f}** |",
        f"| peer: same server, prepared file hidden (rendered from the on-disk store) | {live['records']:,} | "
        f"{live['seconds']:.1f} | {live['rps']:,.0f} |",
        f"| peer: sickle (real harvester, parses every record) against the prepared server | {sk['records']:,} | "
        f"{sk['seconds']:.1f} | {sk['rps']:,.0f} |",
        f"| floor, in process: catalog keyset pages only | {args.live_records:,} | | {floor['catalog_rps']:,.0f} |",
        f"| floor, in process: catalog + reading each document's {floor['doc_quads']:.0f} statements from the store "
        f"| {args.live_records:,} | | {floor['read_rps']:,.0f} |",
        "",
        f"**{full['rps']:,.0f} records/s (goal >= 2,000); prepared / live rendering: "
        f"{full['rps'] / live['rps']:.1f}x.** Response size {full['bytes_per_record']:,.0f} bytes per record.",
        "",
        f"Server memory (RSS, master + workers, {mem['samples']} samples during the full harvest): idle "
        f"{mem['idle']:.0f} MB, max in the first quarter {mem['first_quarter_max']:.0f} MB, max in the last quarter "
        f"{mem['last_quarter_max']:.0f} MB, max {mem['max']:.0f} MB, at the end {mem['end']:.0f} MB: flat (keyset "
        f"pages, nothing per harvest is kept). Live rendering max {live_mem['max']:.0f} MB.",
        "",
        f"Cost: the build renders oai_dc and edm once per record (oai.sqlite {oai_mb:,.0f} MB beside "
        f"{ox_mb:,.0f} MB of Oxigraph files)"
        + (f"; generating took {build_times['generate_s']:.0f} s and the whole build {build_times['build_s']:.0f} s"
           if build_times else "") + ".",
        "",
        f"Reproduce: `python -m bench.oai_bench --records {args.records} --page-size {args.page_size} --write` "
        f"(the store is kept under `bench/work` as oai-{args.records} and reused).",
    ]
    print("\n".join(lines))
    if args.write:
        write_section("\n".join(lines), HEADING)


if __name__ == "__main__":
    main()
