"""Measuring tools shared by bench.run: repeated runs with median/min/max, wrk over many URLs, RSS
sampling of a process tree, our server as a subprocess, and py-spy profiles summarised as text.
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.peers import free_port, pss_mb, rss_mb


@dataclass
class Stat:
    """Median of repeated measurements, with min and max (and how many runs)."""

    median: float
    lo: float
    hi: float
    runs: int

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        return cls(statistics.median(values), min(values), max(values), len(values))

    def fmt(self, digits: int = 1) -> str:
        if self.runs == 1:
            return f"{self.median:.{digits}f} (1 run)"
        return f"{self.median:.{digits}f} ({self.lo:.{digits}f}-{self.hi:.{digits}f})"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


# ----------------------------------------------------------------------------------- wrk
# Each wrk thread has its own Lua state: thread k (of STEP) takes paths k, k+STEP, k+2*STEP... so no two
# threads ask for the same document at the same moment (which would let a response cache answer the second).
LUA = """
local started = 0
function setup(thread)
  thread:set("offset", started)
  started = started + 1
end
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = nil
request = function()
  if i == nil then i = offset - %d end
  i = (i + %d) %% #paths
  return wrk.format("GET", paths[i + 1])
end
"""


def wrk(root: str, paths: list[str], *, duration: int, connections: int,
        headers: dict[str, str] | None = None) -> dict[str, float]:
    """wrk with ``connections`` keep-alive connections cycling through ``paths`` (one URL each request)."""
    with tempfile.TemporaryDirectory(prefix="wrk-") as d:
        listing = Path(d) / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        script = Path(d) / "rotate.lua"
        threads = min(2, connections)
        script.write_text(LUA % (listing, threads, threads))
        cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script)]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}: {v}"]
        out = subprocess.run(cmd + [root], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "p99_ms": float(p99.group(1)) * scale,
            "non2xx": int(non2xx.group(1)) if non2xx else 0,
            "errors": sum(int(x) for x in errors.groups()) if errors else 0}


class RssSampler(threading.Thread):
    """Largest resident size of a process tree (MB) while the ``with`` block runs; ``peak_pss`` the
    largest proportional size (shared pages counted once)."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self.peak_pss = pid, every, 0.0, 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self._sample()
            time.sleep(self.every)

    def _sample(self) -> None:
        if self.pid:
            self.peak = max(self.peak, rss_mb(self.pid))
            self.peak_pss = max(self.peak_pss, pss_mb(self.pid))

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop_event.set()
        self.join()
        self._sample()


# ----------------------------------------------------------------------------------- our server
class LodServer:
    """`lod serve` (gunicorn, lod.web.asgi) on a free loopback port, in its own process group."""

    def __init__(self, store: str | Path, base: str, *, workers: int = 0, extra: dict[str, str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}/"
        args = [sys.executable, "-c", "from lod.cli import main; main()", "serve", "--store", str(store),
                "--base-uri", base, "--port", str(self.port)]
        if workers:
            args += ["--workers", str(workers)]
        for k, v in (extra or {}).items():
            args += [f"--{k.replace('_', '-')}", v]
        self.log = tempfile.NamedTemporaryFile(prefix="lod-serve-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def workers(self) -> list[int]:
        try:
            return [int(c) for t in Path(f"/proc/{self.pid}/task").iterdir()
                    for c in (t / "children").read_text().split()]
        except OSError:
            return []

    def wait(self, path: str = "", timeout: float = 180.0) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lod serve exited: {Path(self.log.name).read_text()[-2000:]}")
            try:
                if requests.get(self.root + path, timeout=5).status_code < 500:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"lod serve not answering on {self.root}{path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        Path(self.log.name).unlink(missing_ok=True)


# ----------------------------------------------------------------------------------- profiles
def profile_pid(pid: int, seconds: int, out: Path, *, subprocesses: bool = True) -> Path | None:
    """py-spy record of a running process for ``seconds`` (raw collapsed stacks); None without py-spy."""
    cmd = ["py-spy", "record", "--pid", str(pid), "-d", str(seconds), "-r", "100", "-f", "raw", "-o", str(out),
           "--nonblocking"]
    if subprocesses:
        cmd.append("--subprocesses")
    try:
        subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out.is_file() else None


def profile_command(cmd: list[str], out: Path, timeout: float = 3600) -> Path | None:
    """py-spy record of a whole command (raw collapsed stacks)."""
    try:
        subprocess.run(["py-spy", "record", "-r", "50", "-f", "raw", "-o", str(out), "--", *cmd],
                       capture_output=True, text=True, timeout=timeout, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out.is_file() else None


_FRAME = re.compile(r"^(?P<fn>[^ ]+) \((?P<file>[^:)]+)(?::\d+)?\)$")


def summarise(raw: Path, top: int = 8) -> list[str]:
    """Top functions by inclusive and by own share of samples, as Markdown table rows."""
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        total += count
        frames = [_short(f) for f in stack.split(";") if f]
        if not frames:
            continue
        own[frames[-1]] += count
        for f in set(frames):
            incl[f] += count
    if not total:
        return []
    rows = ["| function (file) | own % | incl. % |", "|---|---|---|"]
    for fn, n in own.most_common(top):
        rows.append(f"| `{fn}` | {100 * n / total:.1f} | {100 * incl[fn] / total:.1f} |")
    return rows


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()[:80]
    path = m.group("file")
    for marker in ("/site-packages/", "/lod/", "/bench/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1] if marker != "/lod/" else "lod/" + path.split(marker, 1)[1]
            break
    return f"{m.group('fn')} ({Path(path).name if '/' not in path else path})"
