"""Where a serving tree's memory goes: each process's peak RSS (and its anonymous part) per load phase.

    python -m bench.memory_probe STORE [--phases ttl,html,sparql] [--reps 2] [--duration 20]
                                       [--workers 2] [--env NAME=VALUE ...]

`lod serve --workers N` on a built store; phases in order: ``ttl``/``html`` = wrk c=64 over up to
40,000 distinct documents (a crawl), ``sparql`` = the five queries of bench.sparql_bench, ``--reps``
times each (the person and graph of bench.run's ``picks.json`` beside the store, written here if
missing). Every 0.2 s it reads /proc/<pid>/smaps_rollup of every process in the tree (gunicorn
master, web workers, SPARQL worker processes) and prints, per phase, the tree's peak and each
process's peak. bench.run reports the tree's peak only; this says which process holds it.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from pathlib import Path
from urllib.parse import quote

import requests

from bench import sparql_bench
from bench.harness import LodServer, wrk
from bench.peers import tree_pids
from bench.run import BASE, _picks

SPREAD = 40_000


def _smaps(pid: int) -> dict[str, int] | None:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in ("Rss", "Anonymous"):
                out[name] = int(rest.split()[0]) // 1024
    except (OSError, ValueError):
        return None
    return out


class Sampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.phase, self.done = root, "idle", threading.Event()
        self.procs: dict[tuple[str, int], dict[str, int]] = {}
        self.trees: dict[str, int] = {}
        self.roles: dict[int, str] = {}

    def run(self) -> None:
        while not self.done.is_set():
            total = 0
            for pid in tree_pids(self.root):
                m = _smaps(pid)
                if m is None:
                    continue
                total += m["Rss"]
                if pid not in self.roles:
                    self.roles[pid] = _role(pid, self.root)
                key = (self.phase, pid)
                if m["Rss"] > self.procs.get(key, {}).get("Rss", 0):
                    self.procs[key] = m
            self.trees[self.phase] = max(self.trees.get(self.phase, 0), total)
            time.sleep(0.2)


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "master"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "gone"
    return "sparql worker" if b"sparql" in cmd else "web worker"


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store", type=Path)
    ap.add_argument("--phases", default="ttl,html,sparql")
    ap.add_argument("--reps", type=int, default=2, help="runs of each SPARQL query")
    ap.add_argument("--duration", type=int, default=20, help="seconds of wrk per document phase")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the server, e.g. LOD_RESPONSE_CACHE_MB=0")
    a = ap.parse_args(argv)
    phases = [p for p in a.phases.split(",") if p]
    if unknown := set(phases) - {"ttl", "html", "sparql"}:
        ap.error(f"unknown phases: {', '.join(sorted(unknown))}")
    env = dict(kv.split("=", 1) for kv in a.env)
    picked = a.store.parent / "picks.json"        # bench.run's choice for this store, if it made one
    if picked.is_file():
        person, graph, keys = json.loads(picked.read_text())
    else:                                           # a minute or more at 100,000 records
        person, graph, keys = _picks(a.store)
        picked.write_text(json.dumps([person, graph, keys]))
    srv = LodServer(a.store, BASE, workers=a.workers, env={"LOD_SPARQL_TIMEOUT": "3600", **env})
    result: dict[str, object] = {}
    try:
        srv.wait(f"data/document/{quote(keys[0], safe='')}.ttl")
        sampler = Sampler(srv.pid)
        sampler.start()
        time.sleep(3)
        spread = keys[:: max(1, len(keys) // SPREAD)][:SPREAD]
        for phase in phases:
            sampler.phase = phase
            if phase == "sparql":
                with requests.Session() as s:
                    for q in sparql_bench.queries(person, graph).values():
                        for _ in range(a.reps):
                            sparql_bench.measure(s, srv.root + "sparql", q)
            else:
                paths = [f"/data/document/{quote(k, safe='')}.{phase}" for k in spread]
                result[f"{phase} wrk"] = wrk(srv.root, paths, duration=a.duration, connections=64)
        sampler.done.set()
        sampler.join()
    finally:
        srv.stop()
    for phase in ["idle", *phases]:
        procs = sorted((pid, m) for (ph, pid), m in sampler.procs.items() if ph == phase)
        result[phase] = {"tree_mb": sampler.trees.get(phase),
                         "processes": [{"role": sampler.roles.get(pid, "?"), **m} for pid, m in procs]}
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
