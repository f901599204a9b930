"""`lod build` of N synthetic records against a pyoxigraph bulk load of the same quads, in one run.

    python -m bench.build_bench --n 100000 [--repeats 1] [--workdir var/bench/build] [--write]

1. bench/generate.py writes N record files + an authority (cached in the work dir between runs).
2. `lod build` runs as a child process (real CLI, fresh interpreter): wall time and peak RSS.
3. The peer: the quads that build published, dumped once as an N-Quads file (not timed), are
   bulk-loaded by pyoxigraph (`Store.bulk_load`) into an empty on-disk store, also as a child
   process: wall time and peak RSS.
The ratio build / bulk load is the figure of merit (goal <= 3). With --repeats R both are run R
times and medians reported. --write replaces the "## Build" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = """
import sys, pyoxigraph as ox
store = ox.Store(sys.argv[1])
store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS)
store.flush()
print(len(store))
"""


def run_measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str, str]:
    """Like run_child, with the child's own peak RSS from os.wait4 (Linux/macOS)."""
    t0 = time.perf_counter()
    out_path, err_path = Path(f"/tmp/lod-bench-{os.getpid()}.out"), Path(f"/tmp/lod-bench-{os.getpid()}.err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    rss_mib = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    stdout, stderr = out_path.read_text(), err_path.read_text()
    out_path.unlink()
    err_path.unlink()
    if os.waitstatus_to_exitcode(status) not in (0, 1):      # 1 = some records rejected: still a build
        raise SystemExit(f"{' '.join(cmd[:4])}... failed ({status}):\n{stderr[-3000:]}")
    return wall, rss_mib, stdout, stderr


def ensure_data(n: int, seed: int, work: Path) -> Path:
    data = work / f"data-{n}-{seed}"
    marker = data / ".complete"
    if marker.exists():
        return data
    shutil.rmtree(data, ignore_errors=True)
    from bench.generate import write_data

    t0 = time.perf_counter()
    write_data(n, data, seed)
    marker.write_text(f"{n} records, seed {seed}, {time.perf_counter() - t0:.0f} s\n")
    return data


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=ROOT / "var" / "bench" / "build")
    ap.add_argument("--keep-nq", action="store_true",
                    help="load the peer from the work folder's dataset.nq of an earlier run of the same records "
                         "(same quads but for build timestamps) instead of dumping this build (15 min at 100k)")
    ap.add_argument("--write", action="store_true", help="write the results into bench/RESULTS.md (## Build)")
    ap.add_argument("--note", default="", help="free text added to the results (machine load etc.)")
    a = ap.parse_args(argv)
    work = a.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)

    print(f"generating {a.n} records (cached) ...", file=sys.stderr)
    data = ensure_data(a.n, a.seed, work)
    lod = [sys.executable, "-c", "from lod.cli import main; main()"]
    builds, loads = [], []
    build_rss, load_rss = [], []
    timings: list[dict[str, float]] = []
    triples = 0
    nq = work / "dataset.nq"
    for i in range(a.repeats):
        store = work / "store"
        shutil.rmtree(store, ignore_errors=True)
        print(f"[{i + 1}/{a.repeats}] lod build ...", file=sys.stderr)
        env = {**os.environ, "LOD_STORE": str(store), "LOD_DATA": str(data)}
        wall, rss, out, _err = run_measured([*lod, "build", "--no-progress", "--verbose"], env)
        builds.append(wall)
        build_rss.append(rss)
        m = re.search(r"with (\d+) triples", out)
        triples = int(m.group(1)) if m else 0
        tm = re.search(r"^timings: (.*)$", out, re.M)
        if tm:
            timings.append({k: float(v) for k, v in re.findall(r"([\w+ ]+?) ([\d.]+) s(?:, |$)", tm.group(1))})
        if i == 0 and not (a.keep_nq and nq.is_file()):
            import pyoxigraph as ox

            current = (store / "builds" / (store / "CURRENT").read_text().strip() / "oxigraph")
            src = ox.Store.read_only(str(current))
            with open(nq, "wb") as fh:
                src.dump(fh, ox.RdfFormat.N_QUADS)
            del src
        peer = work / "peer-store"
        shutil.rmtree(peer, ignore_errors=True)
        print(f"[{i + 1}/{a.repeats}] pyoxigraph bulk_load ...", file=sys.stderr)
        wall, rss, out, _err = run_measured([sys.executable, "-c", LOAD, str(peer), str(nq)])
        loads.append(wall)
        load_rss.append(rss)
        quads_loaded = int(out.strip() or 0)
    med_b, med_l = statistics.median(builds), statistics.median(loads)
    result: dict[str, object] = {
        "n": a.n, "repeats": a.repeats, "triples_published": triples, "quads_bulk_loaded": quads_loaded,
        "nq_bytes": nq.stat().st_size, "build_s": builds, "bulk_load_s": loads,
        "build_median_s": round(med_b, 1), "bulk_load_median_s": round(med_l, 1),
        "ratio": round(med_b / med_l, 2), "build_peak_rss_mib": round(max(build_rss)),
        "bulk_load_peak_rss_mib": round(max(load_rss)), "build_stages_s": timings[-1] if timings else {},
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }
    print(json.dumps(result, indent=2))
    if a.write:
        write_results(result, a.note)
    return result


def write_results(r: dict[str, object], note: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in r["build_stages_s"].items())  # type: ignore[union-attr]
    load = r["load_average"]
    section = f"""## Build

`python -m bench.build_bench --n {r['n']} --repeats {r['repeats']}` ({time.strftime('%Y-%m-%d')}, {r['cpus']} CPUs,
Python {r['python']}, load average at the end {', '.join(f'{x:.1f}' for x in load) if load else 'n/a'}).
{note}

| | wall (median of {r['repeats']}) | peak RSS |
|---|---|---|
| `lod build` ({r['n']:,} records -> {r['triples_published']:,} triples, validated, catalog, 2 dumps) | {r['build_median_s']} s | {r['build_peak_rss_mib']} MiB |
| pyoxigraph `bulk_load` of the same {r['quads_bulk_loaded']:,} quads (N-Quads, {int(r['nq_bytes']) / 2**30:.2f} GiB) | {r['bulk_load_median_s']} s | {r['bulk_load_peak_rss_mib']} MiB |
| **ratio build / bulk load** | **{r['ratio']}x** (goal <= 3x) | |

Build stages: {stages}. Raw: build {r['build_s']} s; bulk load {r['bulk_load_s']} s.
"""
    text = path.read_text() if path.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Build\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


if __name__ == "__main__":
    main()
