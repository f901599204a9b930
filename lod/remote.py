"""A remote SPARQL 1.1 store (Virtuoso, QLever, GraphDB, Fuseki...) behind the EmbeddedStore interface.

Why: one machine runs out at some point; then the dataset lives in an existing SPARQL store and any
number of stateless web nodes read it (docs/deploy.md). Every caller keeps working unchanged because
:meth:`RemoteStore.query` returns the very pyoxigraph result objects the embedded store returns:
SELECT/ASK answers are parsed with ``pyoxigraph.parse_query_results``, CONSTRUCT/DESCRIBE answers with
``pyoxigraph.parse`` (and handed back as a real ``QueryTriples``).

Dataset semantics, made equal to the embedded store's:
- default graph = union of the dataset's graphs. Virtuoso's default graph is the union of ALL graphs
  (checked: a fresh database answers 2499 triples from its own system graphs, virtrdf: and others), so on
  Virtuoso every query gets ``define input:default-graph-exclude`` / ``input:named-graph-exclude`` for the
  graphs that are not the dataset's (system graphs and our catalog graph) -- except a query that says
  ``GRAPH <iri>``, which those pragmas would empty on Virtuoso 07.20. Other stores: configure the
  union default graph (Fuseki ``unionDefaultGraph``; GraphDB and QLever query all graphs by default) and
  keep the store for this dataset; the catalog graph is then visible to public queries (docs/deploy.md).
- a query's own ``FROM``/``FROM NAMED`` decides its dataset (pyoxigraph's union flag would override
  it; lod.sparql turns the flag off for such queries, so public answers agree);
- ``default_graph=``/``named_graphs=`` become the protocol's ``default-graph-uri``/``named-graph-uri``;
  the store's own default graph (``DefaultGraph()``) is empty here (all data lives in named graphs), so it
  maps to a graph IRI that holds nothing.
- Virtuoso ``define`` pragmas in a caller's query are refused (they are not SPARQL 1.1 and could switch
  on sponging, i.e. fetching URLs); Debian's Virtuoso also refuses SERVICE and sponging to anonymous users.

Failure: a store that cannot be reached (refused, timed out, 502/503/504) raises :class:`StoreUnavailable`;
the web tier answers 503 + Retry-After and the next request simply tries again (no restart needed).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

from lod.remote_protocol import (
    EMPTY_GRAPH,
    GRAPH_FORMATS,
    JSON_RESULTS,
    RDF_ACCEPT,
    Endpoint,
    _as_list,
    _graph_param,
    _message,
    _normalise_json,
    _triples_result,
    has_dataset_clause,
    names_constant_graph,
    query_form,
    substitute,
)
from lod.remote_quads import RemoteQuads
from lod.store import StoreError, StoreUnavailable

__all__ = ["RemoteStore", "RemoteQuads", "StoreUnavailable", "Endpoint", "is_remote", "EMPTY_GRAPH"]


def is_remote(store: str) -> bool:
    """``--store`` names a remote SPARQL store when it is an http(s) URL."""
    return isinstance(store, str) and store.lower().startswith(("http://", "https://"))


VIRTUOSO_GRAPHS = ("http://www.openlinksw.com/schemas/virtrdf#", "http://www.w3.org/ns/ldp#",
                   "http://www.w3.org/2002/07/owl#", "urn:activitystreams-owl:map", "urn:core:services:sparql")


class RemoteQueryError(StoreError):
    """The store refused or failed a query for a reason of the query's own (permission, runtime error)."""


# ----------------------------------------------------------------------------------- the store
class RemoteStore:
    """Read interface of :class:`lod.store.EmbeddedStore` over a SPARQL 1.1 endpoint; ``writer()`` loads it."""

    check_every = 2.0  # seconds between two looks at the catalog's build stamp (refresh is called per request)
    retry_after = 5    # seconds a client is told to wait while the store is unreachable

    def __init__(self, url: str, *, base_uri: str, update_url: str = "", user: str = "", password: str = "",
                 protocol: str = "sparql", timeout: float = 30.0, dumps: str | Path = "var/dumps",
                 poll: bool = False) -> None:
        from lod.remote_catalog import RemoteCatalog  # noqa: PLC0415 - the two modules reference each other

        if not is_remote(url) or not urlsplit(url).hostname:
            raise StoreError(f"not a remote store URL (http(s)://host/...): {url!r}")
        if update_url and (not is_remote(update_url) or not urlsplit(update_url).hostname):
            raise StoreError(f"store_update is not an http(s) URL: {update_url!r}")
        if protocol not in ("sparql", "gsp"):
            raise StoreError(f"store_protocol must be 'sparql' (SPARQL 1.1 Update) or 'gsp' (Graph Store "
                             f"Protocol), not {protocol!r}")
        self.url = url
        self.base_uri = base_uri
        self.endpoint = Endpoint(url, user=user, password=password, timeout=timeout)
        self.update_url = update_url
        self.update_endpoint = Endpoint(update_url, timeout=max(timeout, 300.0), auth=self.endpoint.auth) \
            if update_url else None
        self.protocol = protocol
        self.timeout = timeout
        self._dumps = Path(dumps)
        self.catalog = RemoteCatalog(self)
        self.excluded: list[str] = [self.catalog.graph]
        self.oxigraph = RemoteQuads(self)
        self.build = PurePosixPath("unread")   # the published build's stamp (catalog meta built_at) as a name
        self._next_check = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        try:
            self.refresh(force=True)
        except StoreUnavailable:
            pass  # start anyway: requests answer 503 until the store is back, then recover by themselves
        if poll:
            # Response caches outside Flask (lod.web.asgi) key on ``build`` and never call refresh():
            # a thread keeps the stamp current, so a rebuild shows within ``check_every`` seconds.
            threading.Thread(target=self._poll, name="lod-remote-poll", daemon=True).start()

    def _poll(self) -> None:
        while not self._stop.wait(self.check_every):
            try:
                self.refresh()
            except StoreError:
                pass   # unreachable for now: requests answer 503; the next look tries again

    @classmethod
    def from_settings(cls, settings: Any) -> RemoteStore:
        return cls(settings.store, base_uri=settings.base_uri, update_url=settings.store_update,
                   user=settings.store_user, password=settings.store_password,
                   protocol=getattr(settings, "store_protocol", "sparql") or "sparql",
                   timeout=float(settings.sparql_timeout), dumps=getattr(settings, "store_dumps", "var/dumps"),
                   poll=True)

    @property
    def virtuoso(self) -> bool:
        return self.endpoint.server.lower().startswith("virtuoso")

    @property
    def dumps(self) -> Path:
        return self._dumps

    @property
    def prepared_dir(self) -> Path:
        """Where `lod build` leaves the prepared OAI-PMH records (lod.oai.prepared) for the web nodes."""
        return self._dumps

    # --------------------------------------------------------------------------- reading
    def refresh(self, force: bool = False) -> bool:
        """Notice a new build (a changed ``built_at`` stamp) at most every ``check_every`` seconds.

        Called per request: when another thread is already looking, this one does not wait.
        """
        now = time.monotonic()
        if not force and now < self._next_check:
            return False
        if not self._lock.acquire(blocking=force):
            return False
        try:
            self._next_check = now + self.check_every   # also after a failure: no retry storm
            stamp = PurePosixPath(self.catalog.load_meta() or "unpublished")
            if stamp == self.build and not force:
                return False
            self.excluded = self._foreign_graphs() if self.virtuoso else [self.catalog.graph]
            self.catalog.reload()
            self.build = stamp
            return True
        finally:
            self._lock.release()

    def _foreign_graphs(self) -> list[str]:
        """Graphs Virtuoso keeps for itself, plus our catalog: excluded from the union default graph.

        A fixed list, not a query: listing a store's graphs means reading every quad (5 s over 1.2 M
        quads here). Virtuoso's own graphs have well-known names; those named after the server use the
        endpoint's host (its URIQA DefaultHost) or Virtuoso's default localhost:8890.
        """
        u = urlsplit(self.url)
        hosts = {f"{u.scheme}://{u.netloc}", "http://localhost:8890"}
        return sorted({*VIRTUOSO_GRAPHS, self.catalog.graph, *(f"{h}/DAV/" for h in hosts),
                       *(f"{h}/sparql" for h in hosts)})

    def query(self, sparql: str, **kwargs: Any) -> ox.QuerySolutions | ox.QueryTriples | ox.QueryBoolean:
        """SPARQL over the published dataset; the default graph is the union of its graphs unless given.

        Takes pyoxigraph's keyword arguments, plus ``timeout`` (seconds) for this one query.
        """
        for unsupported in ("custom_functions", "custom_aggregate_functions"):
            if kwargs.get(unsupported):
                raise TypeError(f"{unsupported}= cannot run in a remote store")
        subs = kwargs.get("substitutions")
        if subs:
            sparql = substitute(sparql, subs)
        form, _ = query_form(sparql)
        head: list[str] = []
        if kwargs.get("base_iri"):
            head.append(f"BASE <{kwargs['base_iri']}>")
        for prefix, iri in (kwargs.get("prefixes") or {}).items():
            head.append(f"PREFIX {prefix}: <{iri}>")
        params: list[tuple[str, str]] = []
        default_graph = kwargs.get("default_graph")
        named_graphs = kwargs.get("named_graphs")
        own_dataset = has_dataset_clause(sparql)   # FROM in the query: it decides, as in pyoxigraph
        if default_graph is not None:
            params += [("default-graph-uri", _graph_param(g)) for g in _as_list(default_graph)]
        elif kwargs.get("use_default_graph_as_union") is False and not own_dataset:
            params.append(("default-graph-uri", EMPTY_GRAPH))
        if named_graphs is not None:
            params += [("named-graph-uri", _graph_param(g)) for g in _as_list(named_graphs)]
        defines: list[str] = []
        # Virtuoso's exclusion pragmas make ``GRAPH <iri>`` match nothing (07.20.3229), so a query that
        # names a graph gets none: its default-graph part then also sees Virtuoso's own graphs.
        if self.virtuoso and not own_dataset and not names_constant_graph(sparql):
            if default_graph is None:
                defines += [f"define input:default-graph-exclude <{g}>" for g in self.excluded]
            if named_graphs is None:
                defines += [f"define input:named-graph-exclude <{g}>" for g in self.excluded]
        text = "\n".join([*defines, *head, sparql])
        return self._run(text, form, params, kwargs.get("timeout"))

    def raw_select(self, sparql: str) -> ox.QuerySolutions:
        """A query of our own (catalog, graph lists): no dataset rewriting."""
        return self._run(sparql, "SELECT", [])  # type: ignore[return-value]

    def _run(self, text: str, form: str, params: list[tuple[str, str]], timeout: float | None = None) -> Any:
        """POST the query; ``timeout`` (seconds) also asks Virtuoso to stop the query itself by then."""
        accept = JSON_RESULTS if form in ("SELECT", "ASK") else RDF_ACCEPT
        limit = self.timeout if timeout is None else max(0.001, timeout)
        if timeout is not None and self.virtuoso:
            params = [*params, ("timeout", str(max(1, int(limit * 1000))))]
        r = self.endpoint.request("POST", data=[("query", text), *params], headers={"Accept": accept},
                                  timeout=limit + (5.0 if timeout is not None else 0.0), what=f"{form} query")
        if r.status_code == 400:
            raise SyntaxError(_message(r))
        if r.status_code >= 300:
            raise RemoteQueryError(f"remote store {self.url} failed the query ({r.status_code}): {_message(r)}")
        if r.headers.get("X-SQL-State") == "S1TAT":   # Virtuoso's "anytime" answer: partial, so refuse it
            raise TimeoutError(f"remote store stopped the query at its time limit: {r.headers.get('X-SQL-Message')}")
        ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if form in ("SELECT", "ASK"):
                if "json" not in ctype:
                    raise RemoteQueryError(f"remote store answered {ctype!r}, expected {JSON_RESULTS}")
                return ox.parse_query_results(_normalise_json(r.content), format=ox.QueryResultsFormat.JSON)
            # Only the line formats we asked for: pyoxigraph's RDF/XML parser expands DTD entities (a
            # "billion laughs" answer would take the web node's memory), so nothing else is parsed.
            fmt = GRAPH_FORMATS.get(ctype)
            if fmt is None:
                raise RemoteQueryError(f"remote store {self.url} answered {ctype!r} to a graph query; "
                                       f"expected N-Triples or Turtle ({RDF_ACCEPT})")
            return _triples_result(ox.parse(r.content, format=fmt))
        except SyntaxError as exc:
            raise RemoteQueryError(f"remote store {self.url} sent an unreadable answer: {exc}") from exc

    def sparql_executor(self, settings: Any) -> Any:
        """What lod.sparql.endpoint evaluates with when the store is remote (lod.remote_sparql)."""
        from lod.remote_sparql import RemoteExecutor  # noqa: PLC0415

        return RemoteExecutor(self, workers=int(settings.sparql_workers), queue=int(settings.sparql_queue))

    def writer(self) -> Any:
        """The loader used by ``lod build`` (needs ``store_update``)."""
        from lod.remote_catalog import RemoteWriter  # noqa: PLC0415

        return RemoteWriter(self)

    def close(self) -> None:
        self._stop.set()
        for ep in (self.endpoint, self.update_endpoint):
            s = getattr(ep._local, "session", None) if ep else None
            if s is not None:
                s.close()

    def __repr__(self) -> str:
        host = urlsplit(self.url).netloc
        return f"<RemoteStore {host} build={self.build.name}>"
