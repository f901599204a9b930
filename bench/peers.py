"""The peers every benchmark figure is a ratio against: Oxigraph server and Virtuoso, on loopback.

Each peer gets a private data directory under the run's work folder, is loaded from the same N-Quads
file the product serves, started on a free 127.0.0.1 port, waited for (a real SPARQL ASK answers) and
stopped by its own process id; the directory is removed afterwards.

- Oxigraph: ``oxigraph load --location DIR --file F`` then ``oxigraph serve-read-only --location DIR
  --bind 127.0.0.1:PORT --union-default-graph`` (the product's default graph is the union of its
  graphs too). Never ``--timeout-s``.
- Virtuoso: scripts/virtuoso.sh with its own VIRTUOSO_DIR and ports (its ini, DirsAllowed, isql
  ``ld_dir(...); rdf_loader_run(); checkpoint;`` bulk load). Its default graph is the union of all graphs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
VIRTUOSO_SH = ROOT / "scripts" / "virtuoso.sh"


class PeerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mb(pid: int, children: bool = True) -> float:
    """Resident memory of a process (and, by default, its descendants), in MB, from /proc."""
    return _tree_kb(pid, "/status", "VmRSS:", children) / 1024


def pss_mb(pid: int) -> float:
    """Proportional set size of a process and its descendants, in MB: pages shared between them (the
    interpreter, libraries, the store's read-only files) counted once instead of once per process,
    which is what summing RSS does."""
    return _tree_kb(pid, "/smaps_rollup", "Pss:", True) / 1024


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc (threads' children included); gone processes are skipped."""
    out, todo, seen = [], [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(k) for k in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _tree_kb(pid: int, source: str, field: str, children: bool) -> int:
    total = 0
    for p in tree_pids(pid) if children else [pid]:
        try:
            for line in Path(f"/proc/{p}{source}").read_text().splitlines():
                if line.startswith(field):
                    total += int(line.split()[1])
                    break
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def wait_sparql(url: str, timeout: float = 120.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise PeerError(f"{url}: the server exited with {proc.returncode}")
        try:
            r = requests.get(url, params={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"},
                             timeout=2)
            if r.status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise PeerError(f"{url}: not answering after {timeout:.0f} s")


class Peer:
    name = "peer"
    url = ""          # the SPARQL query endpoint
    pid: int | None = None
    load_seconds: float | None = None

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
        self.cleanup()

    def rss_mb(self) -> float:
        return rss_mb(self.pid) if self.pid else 0.0

    def stop(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError


class OxigraphPeer(Peer):
    name = "Oxigraph server"

    @staticmethod
    def available() -> str | None:
        """None when usable, else the reason it is not."""
        return None if shutil.which("oxigraph") else "the oxigraph CLI is not installed (pip install oxigraph)"

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.dir = Path(workdir) / "oxigraph-peer"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/query"
        self.proc: subprocess.Popen[bytes] | None = None

    def load(self, *files: Path) -> float:
        """Bulk load (timed): a fresh directory, all files in one ``oxigraph load``."""
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        t = time.perf_counter()
        out = subprocess.run(["oxigraph", "load", "--location", str(self.dir), "--file", *map(str, files)],
                             capture_output=True, text=True)
        self.load_seconds = time.perf_counter() - t
        if out.returncode:
            raise PeerError(f"oxigraph load failed: {out.stderr[-2000:]}")
        return self.load_seconds

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["oxigraph", "serve-read-only", "--location", str(self.dir), "--bind", f"127.0.0.1:{self.port}",
             "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = self.proc.pid
        wait_sparql(self.url, 60, self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self.pid = None

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class VirtuosoPeer(Peer):
    name = "Virtuoso"

    @staticmethod
    def available() -> str | None:
        if not (shutil.which("virtuoso-t") and shutil.which("isql-vt")):
            return "Virtuoso is not installed (scripts/virtuoso.sh install: Debian virtuoso-opensource)"
        return None

    def __init__(self, workdir: Path, http_port: int | None = None, sql_port: int | None = None,
                 buffers: int = 100_000) -> None:
        self.dir = Path(workdir) / "virtuoso-peer"
        self.http_port = http_port or free_port()
        self.sql_port = sql_port or free_port()
        self.url = f"http://127.0.0.1:{self.http_port}/sparql"
        self.env = {**os.environ, "VIRTUOSO_DIR": str(self.dir), "VIRTUOSO_HTTP_PORT": str(self.http_port),
                    "VIRTUOSO_SQL_PORT": str(self.sql_port), "VIRTUOSO_BUFFERS": str(buffers)}

    def _sh(self, *args: str, timeout: float = 3600) -> str:
        out = subprocess.run([str(VIRTUOSO_SH), *args], env=self.env, capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode:
            raise PeerError(f"scripts/virtuoso.sh {args[0]} failed: {(out.stderr + out.stdout)[-2000:]}")
        return out.stdout

    def start(self) -> None:
        self._sh("start", timeout=300)
        self.pid = int((self.dir / "virtuoso.pid").read_text())

    def load(self, *files: Path) -> float:
        """Bulk load (timed): stage the files under the DirsAllowed folder, ld_dir + rdf_loader_run + checkpoint."""
        stage = self.dir / "load" / f"batch-{int(time.time() * 1000)}"
        stage.mkdir(parents=True)
        for f in files:
            target = stage / Path(f).name
            try:
                os.link(f, target)
            except OSError:
                shutil.copyfile(f, target)
        t = time.perf_counter()
        self._sh("load", str(stage))
        self.load_seconds = time.perf_counter() - t
        shutil.rmtree(stage, ignore_errors=True)
        return self.load_seconds

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            self._sh("stop", timeout=120)
        except (PeerError, subprocess.TimeoutExpired):
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pid = None

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def sparql_select(url: str, query: str, timeout: float = 600) -> tuple[float, bytes]:
    """One SELECT against a peer: (seconds, body)."""
    t = time.perf_counter()
    r = requests.post(url, data={"query": query}, headers={"Accept": "application/sparql-results+json"},
                      timeout=timeout)
    elapsed = time.perf_counter() - t
    if r.status_code != 200:
        raise PeerError(f"{url}: {r.status_code} {r.text[:300]}")
    return elapsed, r.content
