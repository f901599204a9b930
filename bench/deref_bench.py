"""Dereferencing throughput: `lod serve` (gunicorn) on a document's Turtle URL vs the Oxigraph server
answering the equivalent CONSTRUCT as Turtle, same records, same machine, same run.

    python -m bench.deref_bench [--records 1000] [--duration 10] [--write]

Steps: synthetic records (bench.generate) -> `lod.build.build` -> `lod serve` on a free port, and
`oxigraph serve-read-only --location DIR` on a copy of the same quads (no --timeout-s: it crashes
under load in 0.5.13). `wrk -t2 -c8 -d{duration}s --latency` on each; prints req/s, p99, non-2xx
and the ratio; --write replaces the "## Dereferencing" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = "http://localhost:8080/"
HEADING = "## Dereferencing"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, duration: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", "-c8", f"-d{duration}s", "--latency"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale, "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1) if errors else "none", "raw": out}


def build(records: int, tmp: Path) -> Path:
    from bench.generate import write_data
    from lod import config
    from lod.build import build as run_build

    data = tmp / "data"
    write_data(records, data, progress=False)
    settings = config.load({"store": str(tmp / "store"), "data": str(data), "base_uri": BASE, "offline": True})
    report = run_build(settings)
    if not report.published:
        raise RuntimeError(f"build published nothing: {report.errors[:3]}")
    return tmp / "store"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--records", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--write", action="store_true", help="write the ## Dereferencing section of bench/RESULTS.md")
    args = ap.parse_args(argv)
    for tool in ("wrk", "oxigraph"):
        if not shutil.which(tool):
            sys.exit(f"deref_bench: {tool} is not installed")
    tmp = Path(tempfile.mkdtemp(prefix="deref-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.time()
        store = build(args.records, tmp)
        print(f"built {args.records} records in {time.time() - t0:.1f}s", file=sys.stderr)
        from lod.store import Catalog, Layout
        current = Layout(store).current()
        key = sorted(e.key for e in Catalog(current / "catalog.sqlite", readonly=True).all())[args.records // 2]
        graph = f"{BASE}graph/document/{key}"
        # the peer reads a copy of the same quads (its own RocksDB directory)
        peer_dir = tmp / "peer"
        shutil.copytree(current / "oxigraph", peer_dir)
        lod_port, ox_port = free_port(), free_port()
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        procs.append(subprocess.Popen([sys.executable, "-c", "from lod.cli import main; main()", "serve", "--store", str(store),
                                       "--base-uri", BASE, "--port", str(lod_port)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        procs.append(subprocess.Popen(["oxigraph", "serve-read-only", "--location", str(peer_dir),
                                       "--bind", f"127.0.0.1:{ox_port}"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        ours = f"http://127.0.0.1:{lod_port}/data/document/{urllib.parse.quote(key, safe='')}.ttl"
        construct = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        peer = f"http://127.0.0.1:{ox_port}/query?" + urllib.parse.urlencode({"query": construct})
        accept = {"Accept": "text/turtle"}
        wait_http(ours)
        wait_http(peer, accept)
        sizes = (len(urllib.request.urlopen(ours).read()),
                 len(urllib.request.urlopen(urllib.request.Request(peer, headers=accept)).read()))
        wrk(ours, 2)                                 # warm both
        wrk(peer, 2, accept)
        peer_r = wrk(peer, args.duration, accept)
        ours_r = wrk(ours, args.duration)
        ratio = ours_r["rps"] / peer_r["rps"]
        lines = [
            f"Records: {args.records} synthetic (bench.generate), document `{key}`; response bytes ours/peer: "
            f"{sizes[0]}/{sizes[1]} (ours adds labels of linked resources and document metadata).",
            f"Machine: {os.cpu_count()} cores, shared (load average {os.getloadavg()[0]:.1f} at the end of the "
            f"run); `wrk -t2 -c8 -d{args.duration}s`, same run, peer first.",
            "",
            "| server | req/s | p99 (ms) | non-2xx | socket errors |",
            "|---|---|---|---|---|",
            f"| `lod serve` (gunicorn asgi workers) GET /data/document/{key}.ttl | {ours_r['rps']:.0f} | "
            f"{ours_r['p99_ms']:.2f} | {ours_r['non2xx']} | {ours_r['socket_errors']} |",
            f"| `oxigraph serve-read-only` CONSTRUCT of the record graph as Turtle | {peer_r['rps']:.0f} | "
            f"{peer_r['p99_ms']:.2f} | {peer_r['non2xx']} | {peer_r['socket_errors']} |",
            "",
            f"**Ratio (ours / Oxigraph): {ratio:.2f}x** (goal >= 1.0x, p99 <= 10 ms, zero non-2xx).",
            "",
            f"Reproduce: `python -m bench.deref_bench --records {args.records} --duration {args.duration} --write`.",
        ]
        print("\n".join(lines))
        if args.write:
            write_section("\n".join(lines))
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)


def write_section(body: str, heading: str = HEADING) -> None:
    """Replace (or append) one benchmark's ``## heading`` section of bench/RESULTS.md, leaving the others."""
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    section = f"{heading}\n\n{body}\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda m: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
