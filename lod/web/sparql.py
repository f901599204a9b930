"""/sparql: SPARQL 1.1 Protocol query operation, Service Description, and the query page.

HTTP in, HTTP out; the work is lod.sparql (protocol parsing, static checks, federation, worker pool,
formats). GET without a query: the query page for browsers (text/html preferred), the Service
Description (Turtle, RDF/XML, JSON-LD, N-Triples) for everyone else. CORS is open: the endpoint is
public, read-only and takes no credentials, so query pages and clients on other origins may use it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, g, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from lod.sparql import examples, protocol, service_description
from lod.sparql.endpoint import Answer, Endpoint, allowlist
from lod.sparql.results import offers
from lod.uris import Minter
from lod.web.negotiation import negotiate

bp = Blueprint("sparql", __name__)

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept",
    "Access-Control-Expose-Headers": "X-SPARQL-Truncated, X-SPARQL-Max-Rows, X-SPARQL-Rows, X-SPARQL-Timeout, "
                                     "Retry-After",
    "Access-Control-Max-Age": "86400",
}
SD_OFFERS = ("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples", "text/html")
_lock = threading.Lock()


def endpoint() -> Endpoint:
    """The app's Endpoint (and its worker pool), created on first use in this process."""
    ext = current_app.extensions
    ep = ext.get("lod_sparql")
    if ep is None:
        with _lock:
            ep = ext.get("lod_sparql")
            if ep is None:
                settings, store = current_app.config["LOD_SETTINGS"], current_app.config["LOD_STORE"]
                # A remote store evaluates queries itself (lod.remote_sparql); the embedded one in workers.
                remote = getattr(store, "sparql_executor", None)
                ep = ext["lod_sparql"] = Endpoint(settings, executor=remote(settings) if remote else None)
                # the worker processes end with the app (tests make many apps), at the latest at exit
                weakref.finalize(current_app._get_current_object(), ep.executor.close)  # type: ignore[attr-defined]
    return ep


def _store() -> Any:
    return g.get("store") or current_app.config["LOD_STORE"]


def _store_dir(store: Any) -> str:
    """The build's oxigraph directory for the worker pool; "" for a remote store (lod.remote_sparql)."""
    build = getattr(store, "build", None)
    return str(build / "oxigraph") if build is not None else ""


def _has_graph(store: Any):  # noqa: ANN202
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


def _response(ans: Answer) -> Response:
    resp = Response(ans.body, status=ans.status, content_type=ans.content_type)
    resp.headers.update(ans.headers)
    return resp


@bp.after_request
def _headers(resp: Response) -> Response:
    if request.path.rstrip("/") == "/sparql":
        resp.headers.update(CORS)
        resp.vary.add("Accept")
        resp.headers.setdefault("Cache-Control", "no-store" if resp.status_code >= 400 else "public, max-age=60")
    return resp


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"],
          provide_automatic_options=False)
@bp.route("/sparql/", methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"],
          provide_automatic_options=False)
def sparql() -> Response:
    settings = current_app.config["LOD_SETTINGS"]
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": "GET, HEAD, POST, OPTIONS"})
    try:
        body = request.get_data(cache=False) if request.method == "POST" else b""
        req = protocol.parse(request.method, request.query_string, request.headers.get("Content-Type"), body,
                             max_query=settings.max_body)
    except RequestEntityTooLarge:
        return _response(Answer(413, f"the request body is larger than this endpoint's limit of "
                                     f"{settings.max_body} bytes\n".encode()))
    except protocol.ProtocolError as exc:
        return _response(Answer(exc.status, (exc.message + "\n").encode(), headers=exc.headers))
    store = _store()
    if req is None:
        return _describe_or_page(store)
    accept = request.headers.get("Accept")

    def choose(form: str) -> str | None:
        table = offers(form)
        best = negotiate(accept, tuple(table))
        return table[best] if best else None

    ans = endpoint().answer(req, store_dir=_store_dir(store), has_graph=_has_graph(store), choose=choose)
    return _response(ans)


# ----------------------------------------------------------------------------------- no query
def _describe_or_page(store: Any) -> Response:
    best = negotiate(request.headers.get("Accept"), SD_OFFERS)
    if best == "text/html":
        return _page(store)
    if best is None:
        return _response(Answer(406, ("the service description is offered as " + ", ".join(SD_OFFERS[:-1])
                                      + "\n").encode()))
    settings = current_app.config["LOD_SETTINGS"]
    minter: Minter = current_app.config["LOD_MINTER"]
    fixed = {minter.authority_graph: "Authority: full descriptions of people, places and organisations, "
                                     "name variants, owl:sameAs Wikidata links.",
             minter.ontology_graph: "CIDOC-CRM 7.1.3 and the project vocabulary.",
             minter.provenance_graph: "PROV-O provenance of every record graph.",
             minter.enrichment_graph: "Labels and dates copied from Wikidata for linked entities."}
    has = _has_graph(store)
    named = {iri: what for iri, what in fixed.items() if has(iri)}
    catalog = getattr(store, "catalog", None)
    records = sum(1 for e in catalog.all() if not e.deleted) if catalog is not None else 0
    url = request.base_url.rstrip("/")
    fmt = service_description.MEDIA[best]
    triples = service_description.describe(url, settings, named_graphs=named, record_graphs=records,
                                               allowlist=allowlist(settings))
    return Response(service_description.serialise(triples, fmt), content_type=best + "; charset=utf-8")


_examples_cache: dict[str, list[tuple[str, str, str]]] = {}


def _page(store: Any) -> Response:
    settings = current_app.config["LOD_SETTINGS"]
    key = str(getattr(store, "build", "")) + settings.base_uri
    found = _examples_cache.get(key)
    if found is None:
        found = _examples_cache[key] = examples.examples(store, settings)
    html = render_template("sparql.html", examples=found, settings=settings, allowlist=allowlist(settings),
                           endpoint=request.base_url.rstrip("/"))
    return Response(html, content_type="text/html; charset=utf-8")
