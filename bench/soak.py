"""Soak: mixed traffic (dereferencing, SPARQL, OAI-PMH) at concurrency C for D seconds against `lod serve`
(gunicorn + the asgi front, real HTTP on loopback), with the server's memory sampled throughout.

    python -m bench.soak [--duration 60] [--concurrency 64] [--records 0] [--workers 0] [--write]

Promise checked (docs/reliability.md): zero connection errors, zero 5xx other than the documented 503
back-pressure (which must carry Retry-After), and resident memory of the whole server process tree
(master, workers, SPARQL worker processes) growing by at most 10 % from the end of warm-up (the first
quarter, at least 5 s) to the end. Reports p50/p99 per kind of request. ``--write`` replaces the
"## Soak (hardening)" section of bench/RESULTS.md. tests/test_faults.py runs a 20 s version.

The load generator: C threads, each with its own keep-alive connection (http.client), cycling through a
fixed, interleaved list of requests (bounded in count by the duration, loopback only); redirects are
not followed (a 303 is an answer).
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
HEADING = "## Soak (hardening)"

QUERIES = [
    "SELECT ?year (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a <http://www.cidoc-crm.org/cidoc-crm/E31_Document> ; "
    "<http://purl.org/dc/terms/date> ?date BIND(SUBSTR(STR(?date), 1, 4) AS ?year) } GROUP BY ?year ORDER BY ?year",
    "SELECT DISTINCT ?d ?t WHERE { ?d <http://www.cidoc-crm.org/cidoc-crm/P67_refers_to> ?p ; "
    "<http://purl.org/dc/terms/title> ?t . ?p <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 50",
    "ASK { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o }",
    "SELECT * WHERE { ?s ?p ?o } LIMIT 20",
]


@dataclass
class Req:
    kind: str
    path: str
    accept: str = "*/*"


@dataclass
class Result:
    duration: float
    concurrency: int
    requests: int = 0
    statuses: dict[str, Counter] = field(default_factory=dict)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    bad_5xx: int = 0                 # 5xx other than 503, or a 503 without Retry-After
    back_pressure: int = 0           # 503 with Retry-After (documented)
    rss: list[tuple[float, float]] = field(default_factory=list)   # (seconds, MB of the process tree)
    warmup: float = 0.0

    def pct(self, q: float, kind: str | None = None) -> float:
        lat = sorted(self.latencies.get(kind, []) if kind else [x for v in self.latencies.values() for x in v])
        if not lat:
            return 0.0
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000

    @property
    def rss_warm(self) -> float:
        after = [mb for t, mb in self.rss if t >= self.warmup]
        return statistics.median(after[:3]) if after else 0.0

    @property
    def rss_end(self) -> float:
        return statistics.median([mb for _, mb in self.rss[-3:]]) if self.rss else 0.0

    @property
    def growth(self) -> float:
        return (self.rss_end - self.rss_warm) / self.rss_warm if self.rss_warm else 0.0

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {sum(c.values())}" for k, c in sorted(self.statuses.items()))
        return (f"soak c={self.concurrency} {self.duration:.0f} s: {self.requests} requests ({kinds}), "
                f"{self.requests / self.duration:.0f}/s; p50 {self.pct(0.5):.1f} ms, p99 {self.pct(0.99):.1f} ms; "
                f"errors {len(self.errors)}, 5xx outside back-pressure {self.bad_5xx}, 503 back-pressure "
                f"{self.back_pressure}; RSS {self.rss_warm:.0f} -> {self.rss_end:.0f} MB ({100 * self.growth:+.1f} %)")


def plan(keys: list[str], people: list[str]) -> list[Req]:
    """The mix, interleaved: about 60 % dereferencing, 20 % SPARQL, 20 % OAI-PMH."""
    deref: list[Req] = []
    for k in keys:
        deref += [Req("deref", f"/id/document/{quote(k)}", "text/turtle"),
                  Req("deref", f"/data/document/{quote(k)}.ttl"), Req("deref", f"/data/document/{quote(k)}.jsonld"),
                  Req("deref", f"/data/document/{quote(k)}.html"),
                  Req("deref", f"/data/document/{quote(k)}", "application/rdf+xml")]
    for p in people:
        deref += [Req("deref", f"/id/person/{quote(p)}", "text/html"), Req("deref", f"/data/person/{quote(p)}.nt")]
    sparql = [Req("sparql", "/sparql?" + urlencode({"query": q}), "application/sparql-results+json") for q in QUERIES]
    oai = [Req("oai", "/oai?verb=Identify"), Req("oai", "/oai?verb=ListIdentifiers&metadataPrefix=oai_dc"),
           Req("oai", "/oai?verb=ListRecords&metadataPrefix=oai_dc"), Req("oai", "/oai?verb=ListSets")]
    from lod.oai.repository import repository_identifier

    oai += [Req("oai", "/oai?" + urlencode({"verb": "GetRecord", "metadataPrefix": "edm",
                                             "identifier": f"oai:{repository_identifier(BASE)}:{k}"}))
            for k in keys[:5]]
    mix: list[Req] = []
    for i in range(max(len(deref), 5 * len(sparql), 5 * len(oai))):
        mix.append(deref[i % len(deref)])
        if i % 3 == 0:
            mix.append(deref[(i * 7 + 1) % len(deref)])
        if i % 5 in (1, 3):
            mix.append(sparql[i % len(sparql)])
        if i % 5 in (2, 4):
            mix.append(oai[i % len(oai)])
    return mix


def run(root: str, mix: list[Req], *, duration: float, concurrency: int, pid: int | None = None,
        warmup: float | None = None) -> Result:
    from bench.peers import rss_mb

    res = Result(duration=duration, concurrency=concurrency, warmup=warmup if warmup is not None
                 else max(5.0, duration / 4))
    u = urlsplit(root)
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + duration
    stop = threading.Event()

    def sampler() -> None:
        while not stop.is_set():
            if pid:
                res.rss.append((time.monotonic() - start, rss_mb(pid)))
            stop.wait(1.0)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        i = n * 7919
        local_status: dict[str, Counter] = {}
        local_lat: dict[str, list[float]] = {}
        local_err: list[str] = []
        bad = bp = count = 0
        while time.monotonic() < deadline:
            r = mix[i % len(mix)]
            i += 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", r.path, headers={"Accept": r.accept, "User-Agent": "lod-soak"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                retry = resp.getheader("Retry-After")
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                local_err.append(f"{r.kind} {r.path[:60]}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
                continue
            took = time.perf_counter() - t0
            count += 1
            local_status.setdefault(r.kind, Counter())[status] += 1
            local_lat.setdefault(r.kind, []).append(took)
            if status == 503 and retry:
                bp += 1
            elif status >= 500:
                bad += 1
        conn.close()
        with lock:
            res.requests += count
            res.bad_5xx += bad
            res.back_pressure += bp
            res.errors += local_err
            for k, c in local_status.items():
                res.statuses.setdefault(k, Counter()).update(c)
            for k, v in local_lat.items():
                res.latencies.setdefault(k, []).extend(v)

    s = threading.Thread(target=sampler, daemon=True)
    s.start()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + 120)
    stop.set()
    s.join(5)
    if pid:
        res.rss.append((time.monotonic() - start, rss_mb(pid)))
    res.duration = time.monotonic() - start
    return res


def dataset(work: Path, records: int) -> tuple[Path, list[str], list[str]]:
    """A built store (the bundled records, or ``records`` synthetic ones) and its document keys and people."""
    import pyoxigraph as ox

    from lod import config
    from lod.build import build
    from lod.store import EmbeddedStore

    data = work / "data"
    if records:
        from bench.generate import write_data
        write_data(records, data, progress=False)
    else:
        shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("sources"))
    settings = config.load({"store": str(work / "store"), "data": str(data), "base_uri": BASE, "offline": True})
    report = build(settings)
    if report.exit_code not in (0, 1):
        raise SystemExit(f"build failed: {report.errors[:3]}")
    store = EmbeddedStore(work / "store")
    keys = sorted(e.key for e in store.catalog.all() if not e.deleted)
    people = sorted({str(r["p"].value)[len(BASE + "id/person/"):] for r in store.query(
        "SELECT DISTINCT ?p WHERE { GRAPH ?g { ?d <http://www.cidoc-crm.org/cidoc-crm/P67_refers_to> ?p } "
        f"FILTER(STRSTARTS(STR(?p), {ox.Literal(BASE + 'id/person/')})) }} LIMIT 40")})
    return work / "store", keys[:200], people


def soak(*, duration: float, concurrency: int, records: int = 0, workers: int = 0,
         work: Path | None = None) -> Result:
    from bench.harness import LodServer

    tmp = Path(tempfile.mkdtemp(prefix="lod-soak-")) if work is None else work
    try:
        store, keys, people = dataset(tmp, records)
        server = LodServer(store, BASE, workers=workers)
        try:
            server.wait(".well-known/void")
            return run(server.root, plan(keys, people), duration=duration, concurrency=concurrency,
                       pid=server.pid)
        finally:
            server.stop()
    finally:
        if work is None:
            shutil.rmtree(tmp, ignore_errors=True)


def markdown(res: Result, *, records: int, workers: int) -> str:
    rows = ["| kind | requests | statuses | p50 ms | p99 ms |", "|---|---|---|---|---|"]
    for kind in sorted(res.statuses):
        st = ", ".join(f"{s}: {n}" for s, n in sorted(res.statuses[kind].items()))
        rows.append(f"| {kind} | {sum(res.statuses[kind].values())} | {st} | {res.pct(0.5, kind):.1f} | "
                    f"{res.pct(0.99, kind):.1f} |")
    rows.append(f"| **all** | **{res.requests}** | | **{res.pct(0.5):.1f}** | **{res.pct(0.99):.1f}** |")
    what = f"{records} synthetic records" if records else "the bundled records"
    return "\n".join([
        HEADING, "",
        f"`python -m bench.soak --duration {res.duration:.0f} --concurrency {res.concurrency}"
        + (f" --records {records}" if records else "") + "`: `lod serve` (gunicorn, "
        + (f"{workers} workers" if workers else "one worker per core") + f") serving {what}, "
        f"a Python load generator with {res.concurrency} keep-alive connections on the same 2-core machine "
        "(it competes with the server for the CPU), mixed traffic: about 60 % dereferencing (303s and "
        "documents in every format), 20 % SPARQL (four queries), 20 % OAI-PMH (Identify, lists, GetRecord).", "",
        *rows, "",
        f"- requests served: {res.requests} in {res.duration:.0f} s ({res.requests / res.duration:.0f}/s)",
        f"- connection errors: {len(res.errors)}; 5xx outside back-pressure: {res.bad_5xx}; "
        f"503 + Retry-After (documented back-pressure): {res.back_pressure}",
        f"- resident memory of the server's process tree: {res.rss_warm:.0f} MB after warm-up "
        f"({res.warmup:.0f} s), {res.rss_end:.0f} MB at the end: {100 * res.growth:+.1f} % (limit +10 %)",
        "",
    ])


def write_results(text: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(rf"^{re.escape(HEADING)}\n.*?(?=^## |\Z)", re.M | re.S)
    new = pattern.sub(text + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> Any:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--records", type=int, default=0, help="synthetic records (0: the bundled ones)")
    ap.add_argument("--workers", type=int, default=0, help="gunicorn workers (0: one per core)")
    ap.add_argument("--write", action="store_true", help="write the figures to bench/RESULTS.md")
    a = ap.parse_args(argv)
    res = soak(duration=a.duration, concurrency=a.concurrency, records=a.records, workers=a.workers)
    print(res.summary())
    for e in res.errors[:10]:
        print("error:", e, file=sys.stderr)
    if a.write:
        write_results(markdown(res, records=a.records, workers=a.workers))
    ok = not res.errors and not res.bad_5xx and res.growth <= 0.10
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
