"""The SPARQL endpoint's executor for a remote store: the store evaluates, this process only serialises.

Why not the worker pool of lod.sparql.executor: those workers open the embedded build's directory and
exist to kill a pyoxigraph query that cannot be cancelled. A remote store stops a query itself
(Virtuoso's ``timeout`` parameter; the HTTP read timeout otherwise), so the query runs in the request's
thread and the answer is serialised with the same lod.sparql.results code, giving the same bytes, row
caps and truncation notes as the embedded endpoint. Checks, federation (SERVICE is resolved by lod,
never by the store) and logging stay in lod.sparql.endpoint.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pyoxigraph as ox

from lod.remote import RemoteQueryError
from lod.sparql.executor import Job, Outcome, Overloaded, QueryTimeout
from lod.sparql.results import FormatError, serialise


class RemoteExecutor:
    """Same ``run(job, deadline, retry_after=)`` contract as lod.sparql.executor.Executor."""

    def __init__(self, store: Any, *, workers: int = 2, queue: int = 16) -> None:
        self.store = store
        self.slots = threading.BoundedSemaphore(max(1, workers + queue))  # queries in flight to the store
        self.kills = 0

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def alive(self) -> int:
        return 1

    def run(self, job: Job, deadline: float, *, retry_after: int = 5) -> Outcome:
        if not self.slots.acquire(blocking=False):
            raise Overloaded(retry_after)
        try:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QueryTimeout()
            kwargs: dict[str, Any] = {"timeout": remaining}
            if job.default_graph is not None or job.named_graphs is not None:
                kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graph or []]
                if job.named_graphs is not None:
                    kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
            else:
                kwargs["use_default_graph_as_union"] = bool(job.union)
            try:
                result = self.store.query(job.query, **kwargs)
                body, rows, truncated = serialise(result, job.fmt, job.max_rows, prefixes=job.prefixes,
                                                  note=job.note)
            except SyntaxError as exc:
                return Outcome("syntax", message=str(exc))
            except FormatError as exc:
                return Outcome("format", message=str(exc))
            except TimeoutError:
                self.kills += 1
                raise QueryTimeout() from None
            except RemoteQueryError as exc:   # the store's own refusal (a permission, a runtime error)
                return Outcome("error", message=str(exc))
            return Outcome("ok", body, rows, truncated)
        finally:
            self.slots.release()
