"""A pool of query worker processes: hard time limits, bounded concurrency, bounded queue.

Why processes: pyoxigraph cannot cancel a running query, and a thread cannot be killed. A worker
process can: when a query passes its deadline the server SIGKILLs the worker, answers at once, and a
fresh worker is started in the background. Each worker opens the published build read-only, denies
itself Internet sockets (lod.sparql.sandbox), evaluates, and sends back finished bytes (serialised
by Oxigraph in the worker, so the server process does no per-row work).

Admission: at most ``workers`` queries run; at most ``queue`` more wait; anything beyond is refused
at once with :class:`Overloaded` (HTTP 503 + Retry-After). A queued query's wait counts against its
time limit.

Memory: RocksDB keeps what a heavy query read (block caches, table readers) while the store is open.
A worker whose RSS has passed ``max_mb`` after an answer closes its store once the reply is sent, and
so does one idle for ``idle_s`` whose store holds more than ``idle_mb``: the next query reopens it
(~10 ms, and colder caches). A worker that closing cannot bring under ``max_mb`` says so in its reply
and exits; the answer stands, and a fresh worker starts in the background, as after a time limit
(lod.sparql.worker).

Idle workers: a worker left unused for ``idle_exit_s`` exits, and the next query starts one (~0.1 s
before it answers). A server process that never sees a query, or has not seen one for a while, then
holds no worker at all: ~35 MB each at rest, more with a warm store (at 100,000 records, a worker that one
`ASK {}` had started in the other server process held 35 of the 521 MB a server peaked at).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import NoReturn

log = logging.getLogger(__name__)
STACK_KB = 1 << 20          # 1 GiB of address space for the worker's stack (pages are used only if needed)


class Overloaded(Exception):
    """Every worker busy and the queue full (or the wait outlasted the time limit)."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("all query workers are busy and the queue is full")
        self.retry_after = retry_after


class QueryTimeout(Exception):
    """The query ran past its limit and its worker was killed."""


class WorkerCrashed(Exception):
    """The worker died while evaluating (out of memory, a crash in native code)."""


@dataclass
class Job:
    store: str                              # the build's oxigraph directory
    query: str
    fmt: str                                # a lod.sparql.results format key
    max_rows: int
    union: bool = True                      # default graph = union of all graphs
    default_graph: list[str] | None = None  # protocol dataset (overrides FROM and union)
    named_graphs: list[str] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    note: str = ""                          # link written into truncated bodies
    base_iri: str = ""                      # resolves relative IRIs (SPARQL 1.1 Protocol: the endpoint)

    def message(self) -> tuple[object, ...]:
        """The job as lod.sparql.worker expects it (a plain tuple)."""
        return (self.store, self.query, self.fmt, self.max_rows, self.union, self.default_graph,
                self.named_graphs, self.prefixes, self.note, self.base_iri)


@dataclass
class Outcome:
    kind: str            # "ok" | "syntax" | "format" | "error"
    body: bytes = b""
    rows: int = 0
    truncated: bool = False
    message: str = ""


# ----------------------------------------------------------------------------------- server side
class _Slot:
    """One worker: a ``python -m lod.sparql.worker`` child and our end of its socket pair.

    A plain subprocess rather than multiprocessing: nothing re-imports the server's main module
    (gunicorn, pytest, a script), and the child starts from a clean interpreter.
    """

    def __init__(self, sandbox: bool, max_mb: int = 0, idle_s: float = 0.0, idle_mb: int = 0) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # Started through sh to raise its stack limit first (a process's main-thread stack is sized at
            # exec): Oxigraph's parser and planner recurse once per UNION, pattern or operator, and a chain
            # that gets past the static limits (lod.sparql.safety) then answers instead of killing the
            # worker. Where the hard limit is lower, ulimit fails quietly and the default stack stays.
            self.proc = subprocess.Popen(
                ["/bin/sh", "-c", f'ulimit -s {STACK_KB} 2>/dev/null; exec "$@"', "lod-sparql-worker",
                 sys.executable, "-m", "lod.sparql.worker", str(theirs.fileno()), "1" if sandbox else "0",
                 str(max_mb), str(idle_s), str(idle_mb)],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.sandboxed = False
        self._closing = threading.Lock()
        self.idle_since = time.monotonic()

    def wait_ready(self, timeout: float = 60.0) -> bool:
        try:
            if not self.conn.poll(timeout):
                return False
            tag, sandboxed = self.conn.recv()
        except (EOFError, OSError, ValueError):     # killed meanwhile (Executor.close): its socket is closed
            return False
        self.sandboxed = bool(sandboxed)
        return tag == "ready"

    def kill(self) -> None:
        """Idempotent and safe from two threads at once (a retirement's reaper and Executor.close): two
        unguarded closes of one socket could both reach os.close, and the second fails or closes an fd
        number already given to something else."""
        with self._closing:
            try:
                self.proc.kill()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass
            finally:
                self.conn.close()


class Executor:
    """Thread-safe; one per server process. Workers start on first use."""

    def __init__(self, *, workers: int = 2, queue: int = 16, sandbox: bool = True, replace: bool = True,
                 max_mb: int | None = None, idle_s: float = 5.0, idle_mb: int = 32,
                 idle_exit_s: float = 0.0) -> None:
        self.size = max(1, workers)
        self.replace = replace    # start a new worker for one killed, crashed or retired (False: a one-shot command)
        # a worker past this RSS (MB) after an answer closes its store, and retires if that is not enough;
        # 0 never; None: the sparql_worker_max_mb setting
        self.max_mb = _setting_max_mb() if max_mb is None else max(0, int(max_mb))
        # a worker idle this long (s) closes its store when that holds more than idle_mb MB; 0 s: never
        self.idle_s, self.idle_mb = max(0.0, idle_s), max(0, idle_mb)
        self.idle_exit_s = max(0.0, idle_exit_s)   # a worker unused this long (s) exits; 0: never
        self.exited_idle = 0      # how many workers exited so (for tests and the log)
        self.queue = max(0, queue)
        self.sandbox = sandbox
        self._cond = threading.Condition()
        self._free: list[_Slot] = []
        self._all: set[_Slot] = set()
        self._leaving: set[_Slot] = set()   # retired workers not yet reaped
        self._booting: set[_Slot] = set()   # started, not yet ready: close() stops these too
        self._waiting = 0
        self._starting = 0        # workers being spawned: a query may wait for one even when the queue is full
        self._started = False
        self._closed = False
        self.kills = 0            # how many workers were killed for a time limit (for tests and the log)
        self.retired = 0          # how many workers retired past max_mb
        atexit.register(_close_ref, weakref.ref(self))

    # -- lifecycle
    def start(self) -> None:
        with self._cond:
            if self._started:
                return
            self._started = True
        for _ in range(self.size):
            self._spawn_async()
        if self.idle_exit_s > 0:
            threading.Thread(target=_reap_idle, args=(weakref.ref(self), self.idle_exit_s / 4), daemon=True,
                             name="lod-sparql-idle").start()

    def _spawn_async(self) -> None:
        with self._cond:
            self._starting += 1
        threading.Thread(target=self._spawn, daemon=True, name="lod-sparql-spawn").start()

    def _spawn(self, leaving: _Slot | None = None, respawn: bool = True) -> None:
        """Start a worker; ``leaving`` (a retired one) is signalled first so its memory goes while the
        new one starts (reaping it first would add its teardown to the next query's wait)."""
        try:
            if leaving is not None:
                leaving.proc.kill()
            if respawn:
                self._spawn_one()
        finally:
            if leaving is not None:
                leaving.kill()
            with self._cond:
                self._leaving.discard(leaving)
                if respawn:
                    self._starting -= 1
                self._cond.notify_all()

    def _spawn_one(self) -> None:
        for attempt in range(3):
            if self._closed:
                return
            slot = _Slot(self.sandbox, self.max_mb, self.idle_s, self.idle_mb)
            with self._cond:
                closed = self._closed           # close() came while the process was being started
                if not closed:
                    self._booting.add(slot)
            if closed:
                slot.kill()
                return
            ready = slot.wait_ready()
            with self._cond:
                self._booting.discard(slot)
            if ready:
                if self.sandbox and not slot.sandboxed:
                    log.warning("SPARQL worker could not install its network sandbox (seccomp); "
                                "static checks still refuse SERVICE/FROM to foreign IRIs")
                with self._cond:
                    if self._closed:
                        slot.kill()
                        return
                    self._all.add(slot)
                    slot.idle_since = time.monotonic()
                    self._free.append(slot)
                    self._cond.notify()
                return
            slot.kill()
            if self._closed:
                return
            log.error("SPARQL worker failed to start (attempt %d)", attempt + 1)
            time.sleep(0.5)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            slots = list(self._all | self._leaving | self._booting)
            self._all.clear()
            self._leaving.clear()
            self._booting.clear()
            self._free.clear()
            self._cond.notify_all()
        for s in slots:
            s.kill()

    @property
    def alive(self) -> int:
        with self._cond:
            return len(self._all)

    # -- running
    def _acquire(self, deadline: float, retry_after: int) -> _Slot:
        with self._cond:
            if self._free:
                return self._free.pop()
            if len(self._all) + self._starting < self.size and self.replace and not self._closed:
                self._spawn_async()     # fewer workers than the pool's size (idle ones exited): start one
            if self._waiting >= self.queue + self._starting:
                raise Overloaded(retry_after)
            self._waiting += 1
            try:
                while not self._free:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed:
                        raise Overloaded(retry_after)
                    self._cond.wait(remaining)
                return self._free.pop()
            finally:
                self._waiting -= 1

    def _try_acquire(self) -> _Slot | None:
        with self._cond:
            return self._free.pop() if self._free else None

    def _release(self, slot: _Slot) -> None:
        with self._cond:
            if slot in self._all:
                slot.idle_since = time.monotonic()
                self._free.append(slot)
                self._cond.notify()

    def _exit_idle(self) -> None:
        """Stop the workers unused for idle_exit_s; none is replaced until a query needs one."""
        now = time.monotonic()
        with self._cond:
            idle = [s for s in self._free if now - s.idle_since >= self.idle_exit_s]
            for s in idle:
                self._free.remove(s)
                self._all.discard(s)
            self.exited_idle += len(idle)
        for s in idle:
            log.info("SPARQL worker %d exited after %.0f s unused", s.proc.pid, now - s.idle_since)
            s.kill()

    def _discard(self, slot: _Slot) -> None:
        """Kill ``slot`` and start its replacement; idempotent (a second call replaces nothing)."""
        with self._cond:
            present = slot in self._all
            self._all.discard(slot)
            closed = self._closed
        slot.kill()
        if present and not closed and self.replace:
            self._spawn_async()

    def _answer(self, slot: _Slot) -> Outcome:
        """The reply to the job just sent; a worker that says it is retiring has exited: replace it."""
        kind, body, rows, truncated, message, retiring = slot.conn.recv()
        if retiring:
            self._retire(slot, retiring)
        return Outcome(kind, body, rows, truncated, message)

    def _retire(self, slot: _Slot, rss: int) -> None:
        """Take ``slot`` out of the pool at once; reap it and start its replacement in the background.

        Counted as starting before this returns, so the next query waits for the replacement (one worker
        start) instead of being refused when the queue is empty."""
        with self._cond:
            present = slot in self._all
            self._all.discard(slot)
            respawn = present and not self._closed and self.replace
            if not self._closed:
                self._leaving.add(slot)
            self.retired += 1
            if respawn:
                self._starting += 1
        log.warning("SPARQL worker %d retired at %.0f MB RSS (limit %d MB)%s", slot.proc.pid, rss / 2**20,
                    self.max_mb, "; a fresh one is starting" if respawn else "")
        threading.Thread(target=self._spawn, args=(slot, respawn), daemon=True, name="lod-sparql-retire").start()

    def run(self, job: Job, deadline: float, *, retry_after: int = 5) -> Outcome:
        """Evaluate ``job`` before ``deadline`` (time.monotonic()); raises Overloaded/QueryTimeout/WorkerCrashed."""
        self.start()
        slot = self._acquire(deadline, retry_after)
        while slot.proc.poll() is not None:   # died while idle (killed from outside): replace, take another
            self._discard(slot)
            slot = self._acquire(deadline, retry_after)
        with self._holding(slot):
            slot.conn.send(job.message())
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not slot.conn.poll(remaining):
                self._timed_out(slot)
            reply = self._answer(slot)
        return reply

    async def run_async(self, job: Job, deadline: float, *, retry_after: int = 5) -> Outcome:
        """``run`` awaited on the running event loop: no thread, the loop watches the worker's socket.

        Only when a worker is free at once; otherwise (all busy, or none started yet) the blocking
        ``run`` waits in the loop's default thread pool, keeping the same queue and time limit.
        """
        self.start()
        slot = self._try_acquire()
        if slot is not None and slot.proc.poll() is not None:
            self._discard(slot)
            slot = None
        loop = asyncio.get_running_loop()
        if slot is None:
            return await loop.run_in_executor(None, lambda: self.run(job, deadline, retry_after=retry_after))
        fd = slot.conn.fileno()
        with self._holding(slot):
            slot.conn.send(job.message())
            ready: asyncio.Future[bool] = loop.create_future()

            def settle(value: bool) -> None:
                if not ready.done():
                    ready.set_result(value)

            loop.add_reader(fd, settle, True)
            late = loop.call_later(max(0.0, deadline - time.monotonic()), settle, False)
            try:
                answered = await ready
            finally:
                late.cancel()
                loop.remove_reader(fd)
                os.set_blocking(fd, True)   # uvloop's add_reader made it non-blocking; recv and run() block
            if not answered:
                self._timed_out(slot)
            reply = self._answer(slot)
        return reply

    @contextmanager
    def _holding(self, slot: _Slot) -> Iterator[None]:
        """Hand ``slot`` back after a clean answer (unless it retired); a crash, a time limit or a
        cancellation (client gone) replaces it: a worker in an unknown state never serves the next query."""
        try:
            yield
        except (EOFError, OSError) as exc:
            self._discard(slot)
            raise WorkerCrashed(str(exc) or "worker process ended") from None
        except BaseException:
            self._discard(slot)
            raise
        self._release(slot)

    def _timed_out(self, slot: _Slot) -> NoReturn:
        self.kills += 1
        self._discard(slot)
        raise QueryTimeout()


def _setting_max_mb() -> int:
    """The sparql_worker_max_mb setting from the environment or its default (as lod.config resolves it)."""
    from lod import config

    return max(0, int(config.load().sparql_worker_max_mb))


def _reap_idle(ref: weakref.ReferenceType[Executor], every: float) -> None:
    """The idle check's thread: it holds the executor only while checking, so a dropped one is collected."""
    while True:
        time.sleep(every)
        ex = ref()
        if ex is None or ex._closed:
            return
        ex._exit_idle()
        del ex


def _close_ref(ref: weakref.ReferenceType[Executor]) -> None:
    ex = ref()
    if ex is not None:
        ex.close()
