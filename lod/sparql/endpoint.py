"""The SPARQL endpoint without HTTP: checks, federation, evaluation in a worker, answer, log line.

A parsed :class:`~lod.sparql.protocol.QueryRequest` becomes an :class:`Answer` (status, body,
headers) in two steps; lod.web only translates HTTP to and from these. ``Endpoint.plan`` (static
checks, format; cheap, never blocks) gives a refusal or a :class:`Plan`; ``evaluate`` runs it
(SERVICE calls and the worker; blocks), or ``evaluate_async`` (the worker, awaited on an event loop:
the production front saves a thread hop, about 0.4 ms a query on this machine).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from lod.config import Settings
from lod.sparql.executor import Executor, Job, Outcome, Overloaded, QueryTimeout, WorkerCrashed
from lod.sparql.federation import Federator, ServiceError, user_agent
from lod.sparql.protocol import QueryRequest
from lod.sparql.querylog import QueryLog
from lod.sparql.results import BY_KEY, FormatError, by_param
from lod.sparql.safety import Analysis, Rejected, analyse, check

PREFIXES = {
    "crm": "http://www.cidoc-crm.org/cidoc-crm/", "dcterms": "http://purl.org/dc/terms/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#", "prov": "http://www.w3.org/ns/prov#",
    "skos": "http://www.w3.org/2004/02/skos/core#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "wd": "http://www.wikidata.org/entity/",
}


@dataclass
class Answer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)


def allowlist(settings: Settings) -> list[str]:
    """The SERVICE endpoints a query may call (settings.service_allowlist, parsed by lod.config)."""
    return list(settings.service_allowlist)


def has_graph(store: Any) -> Callable[[str], bool]:
    """``iri -> bool``: is it a graph of the published dataset (the FROM / default-graph-uri checks)."""
    ox_store = getattr(store, "oxigraph", None)

    def has(iri: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return False
        if ox_store is not None:
            return ox_store.contains_named_graph(node)
        return bool(store.query("ASK { GRAPH ?g {} FILTER(?g = ?x) }", substitutions={ox.Variable("x"): node}))

    return has


def _error(status: int, message: str, **headers: str) -> Answer:
    return Answer(status, (message.rstrip() + "\n").encode("utf-8"), headers=dict(headers))


class Endpoint:
    """One per server process (it owns the worker pool)."""

    def __init__(self, settings: Settings, *, executor: Executor | None = None, log: QueryLog | None = None,
                 federator: Federator | None = None) -> None:
        self.settings = settings
        self.timeout = float(settings.sparql_timeout)
        self.max_rows = int(settings.sparql_max_rows)
        self.executor = executor or Executor(workers=settings.sparql_workers, queue=settings.sparql_queue,
                                              max_mb=settings.sparql_worker_max_mb,
                                              idle_exit_s=float(settings.sparql_worker_idle_exit_s))
        self.log = log or QueryLog(settings.query_log)
        self.federator = federator or Federator(
            timeout=float(settings.service_timeout), max_rows=self.max_rows,
            user_agent=user_agent(settings.base_uri, getattr(settings, "contact", "")))
        self.prefixes = dict(PREFIXES, id=settings.base_uri + "id/")
        self.note = settings.base_uri + "sparql"

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(min(self.timeout, 60.0)))

    def plan(self, req: QueryRequest, *, store_dir: str, has_graph: Callable[[str], bool],
             choose: Callable[[str], str | None]) -> Plan | Answer:
        """The static part: checks and format choice. A refusal comes back as a (logged) Answer."""
        t0 = time.monotonic()
        info: dict[str, object] = {"form": "", "format": "", "rows": 0, "truncated": False, "services": 0}
        try:
            a = _analyse(req.query, self.note)
            info["form"] = a.form
            check(a, allowlist=allowlist(self.settings), has_graph=has_graph,
                  protocol_graphs=req.default_graphs + req.named_graphs)
            fmt = by_param(req.format, a.form) if req.format else choose(a.form)
        except Rejected as exc:
            info["outcome"] = exc.kind
            return self._logged(t0, info, _error(exc.status, exc.message))
        except FormatError as exc:
            info["outcome"] = "format"
            return self._logged(t0, info, _error(400, str(exc)))
        if fmt is None:
            info["outcome"] = "not-acceptable"
            offered = ", ".join(f.media_type for f in BY_KEY.values() if f.graph == (a.form in ("CONSTRUCT", "DESCRIBE")))
            return self._logged(t0, info, _error(
                406, f"none of the media types in Accept can carry a {a.form or 'query'} result; "
                     f"offered: {offered} (or use the format parameter)"))
        info["format"] = fmt
        job = Job(store=store_dir, query=req.query, fmt=fmt, max_rows=self.max_rows, prefixes=self.prefixes,
                  note=self.note, base_iri=self.note)
        if req.has_dataset:
            job.default_graph, job.named_graphs = req.default_graphs, req.named_graphs
        elif a.has_dataset_clause:
            job.union = False
        return Plan(job, a, t0, t0 + self.timeout, info)

    def evaluate(self, plan: Plan) -> Answer:
        """Federation (SERVICE calls), then the worker; blocking."""
        truncated = False
        try:
            if plan.analysis.services:
                truncated = self._federate(plan)
            out: Outcome | Exception = self.executor.run(plan.job, plan.deadline, retry_after=self.retry_after)
        except (Rejected, Overloaded, QueryTimeout, ServiceError, WorkerCrashed) as exc:
            out = exc
        return self._conclude(plan, out, truncated)

    async def evaluate_async(self, plan: Plan) -> Answer:
        """``evaluate`` on the caller's event loop, for plans without SERVICE and an executor that can."""
        try:
            out: Outcome | Exception = await self.executor.run_async(plan.job, plan.deadline,
                                                                     retry_after=self.retry_after)
        except (Overloaded, QueryTimeout, WorkerCrashed) as exc:
            out = exc
        return self._conclude(plan, out, False)

    def can_run_async(self, plan: Plan) -> bool:
        return not plan.analysis.services and hasattr(self.executor, "run_async")

    def _federate(self, plan: Plan) -> bool:
        job, runner = plan.job, self.executor
        calls_before = self.federator.calls

        def local(q: str, dl: float) -> bytes:
            pre = Job(store=job.store, query=q, fmt="tsv", max_rows=self.max_rows, union=job.union,
                      default_graph=job.default_graph, named_graphs=job.named_graphs, base_iri=self.note)
            out = runner.run(pre, dl, retry_after=self.retry_after)
            if out.kind != "ok":
                raise Rejected(400 if out.kind == "syntax" else 500,
                               f"SPARQL syntax error: {out.message}" if out.kind == "syntax" else out.message,
                               out.kind)
            return out.body

        try:
            job.query, truncated = self.federator.resolve(plan.analysis, local, plan.deadline)
        finally:
            plan.info["services"] = self.federator.calls - calls_before
        return truncated

    def _conclude(self, plan: Plan, out: Outcome | Exception, truncated: bool) -> Answer:
        info = plan.info
        return self._logged(plan.started, info, self._map(out, truncated, info))

    def _map(self, out: Outcome | Exception, truncated: bool, info: dict[str, object]) -> Answer:
        if isinstance(out, Rejected):
            info["outcome"] = out.kind
            return _error(out.status, out.message)
        if isinstance(out, Overloaded):
            info["outcome"] = "overloaded"
            return _error(503, "The SPARQL endpoint is busy: every query worker is in use and the queue is full. "
                               f"Retry in {out.retry_after} s.", **{"Retry-After": str(out.retry_after)})
        if isinstance(out, QueryTimeout):
            info["outcome"] = "timeout"
            return _error(503, f"Query timeout: the query ran longer than this endpoint's limit of "
                               f"{self.timeout:g} s and was stopped. Narrow it down (LIMIT, more specific "
                               "patterns) and try again.", **{"X-SPARQL-Timeout": f"{self.timeout:g}"})
        if isinstance(out, ServiceError):
            info["outcome"] = "service"
            return _error(502, str(out))
        if isinstance(out, WorkerCrashed):
            info["outcome"] = "crash"
            return _error(500, f"the query worker ended unexpectedly ({out}); the query may need too much memory")
        assert isinstance(out, Outcome)
        if out.kind == "syntax":
            info["outcome"] = "syntax"
            return _error(400, f"SPARQL syntax error: {out.message}")
        if out.kind == "format":
            info["outcome"] = "format"
            return _error(400, out.message)
        if out.kind != "ok":
            info["outcome"] = "error"
            return _error(500, f"query evaluation failed: {out.message}")
        truncated = truncated or out.truncated
        info.update(rows=out.rows, truncated=truncated)
        headers = {"X-SPARQL-Rows": str(out.rows)}
        if truncated:
            headers["X-SPARQL-Truncated"] = "true"
            headers["X-SPARQL-Max-Rows"] = str(self.max_rows)
        return Answer(200, out.body, BY_KEY[str(info["format"])].content_type, headers)

    def _logged(self, t0: float, info: dict[str, object], ans: Answer) -> Answer:
        info.setdefault("outcome", "ok" if ans.status == 200 else "error")
        self.log.write(ms=round((time.monotonic() - t0) * 1000, 1), status=ans.status, bytes=len(ans.body), **info)
        return ans


VOLATILE = ("NOW", "RAND", "UUID", "STRUUID", "BNODE")   # functions whose value changes from call to call


@dataclass
class Plan:
    """A query that passed the static checks, ready for a worker."""
    job: Job
    analysis: Analysis
    started: float
    deadline: float
    info: dict[str, object]

    @property
    def repeatable(self) -> bool:
        """Whether evaluating again on the same published build gives the same answer: no SERVICE (the
        remote data may change) and no NOW(), RAND(), UUID(), STRUUID() or BNODE()."""
        return not self.analysis.services and not any(t.is_name(*VOLATILE) for t in self.analysis.tokens)


@lru_cache(maxsize=128)
def _analyse_cached(query: str, base: str) -> Analysis:
    return analyse(query, base=base)


def _analyse(query: str, base: str) -> Analysis:
    """Static analysis, remembered for repeated queries (clients and federating services repeat them;
    an Analysis is not modified after it is made). Long queries are not kept."""
    return _analyse_cached(query, base) if len(query) <= 4096 else analyse(query, base=base)
