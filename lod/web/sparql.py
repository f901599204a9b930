"""/sparql: SPARQL 1.1 Protocol query operation, Service Description, and the query page.

HTTP in, HTTP out; the work is lod.sparql (protocol parsing, static checks, federation, worker pool,
formats) and the query operation itself is lod.web.sparql_http, shared with the production front.
GET without a query: the query page for browsers (text/html preferred), the Service Description
(Turtle, RDF/XML, JSON-LD, N-Triples) for everyone else. CORS is open: the endpoint is public,
read-only and takes no credentials, so query pages and clients on other origins may use it.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from lod.sparql import examples, service_description
from lod.sparql.endpoint import Answer, Endpoint, allowlist
from lod.uris import Minter
from lod.web import sparql_http
from lod.web.negotiation import negotiate
from lod.web.sparql_http import has_graph

bp = Blueprint("sparql", __name__)

SD_OFFERS = ("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples", "text/html")
_lock = threading.Lock()


def endpoint() -> Endpoint:
    """The app's Endpoint (and its worker pool), created on first use in this process."""
    return endpoint_for(current_app._get_current_object())  # type: ignore[attr-defined]


def endpoint_for(app: Flask) -> Endpoint:
    """``endpoint()`` without an app context: the production front calls it from its own threads."""
    ext = app.extensions
    ep = ext.get("lod_sparql")
    if ep is None:
        with _lock:
            ep = ext.get("lod_sparql")
            if ep is None:
                settings, store = app.config["LOD_SETTINGS"], app.config["LOD_STORE"]
                # A remote store evaluates queries itself (lod.remote_sparql); the embedded one in workers.
                remote = getattr(store, "sparql_executor", None)
                ep = ext["lod_sparql"] = Endpoint(settings, executor=remote(settings) if remote else None)
                # the worker processes end with the app (tests make many apps), at the latest at exit
                weakref.finalize(app, ep.executor.close)
    return ep


def _store() -> Any:
    return g.get("store") or current_app.config["LOD_STORE"]


def _response(ans: Answer) -> Response:
    resp = Response(ans.body, status=ans.status, content_type=ans.content_type)
    resp.headers.update(ans.headers)
    return resp


@bp.after_request
def _headers(resp: Response) -> Response:
    if request.path.rstrip("/") == "/sparql":
        resp.headers.update(sparql_http.CORS)
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
    body: bytes | None
    try:
        body = request.get_data(cache=False) if request.method == "POST" else b""
    except RequestEntityTooLarge:
        body = None   # over the limit: answered as 413, as the front does
    store = _store()
    ans = sparql_http.answer(endpoint(), store, method=request.method, query_string=request.query_string,
                             content_type=request.headers.get("Content-Type"), accept=request.headers.get("Accept"),
                             body=body, max_body=settings.max_body)
    return _describe_or_page(store) if ans is None else _response(ans)


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
    has = has_graph(store)
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
