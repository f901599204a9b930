"""/sparql's query operation as one function of the request's raw parts: no Flask, no WSGI environ.

Why: two callers answer queries. The Flask view (lod.web.sparql) serves the development server and the
test client; the production front (lod.web.asgi) answers them straight from the event loop's request,
skipping the environ, Flask's routing and its request context (about 0.8 ms of a short query's 2 ms
fixed cost on this machine). One function keeps their statuses, headers and bodies identical; the
differential test in tests/test_sparql_front.py holds them to it.
"""

from __future__ import annotations

from typing import Any

from lod.sparql import protocol
from lod.sparql.endpoint import Answer, Endpoint, Plan, has_graph

__all__ = ["Answer", "Plan", "answer", "finish", "has_graph", "prepare"]
from lod.sparql.results import offers
from lod.web.negotiation import negotiate

PATHS = ("/sparql", "/sparql/")
CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Accept",
    "Access-Control-Expose-Headers": "X-SPARQL-Truncated, X-SPARQL-Max-Rows, X-SPARQL-Rows, X-SPARQL-Timeout, "
                                     "Retry-After",
    "Access-Control-Max-Age": "86400",
}


def store_dir(store: Any) -> str:
    """The build's oxigraph directory for the worker pool; "" for a remote store (lod.remote_sparql)."""
    build = getattr(store, "build", None)
    return str(build / "oxigraph") if build is not None else ""


def finish(ans: Answer) -> Answer:
    """The headers every /sparql answer carries: open CORS, Vary, and caching by outcome."""
    headers = dict(ans.headers)
    headers.update(CORS)
    headers["Vary"] = "Accept"
    headers.setdefault("Cache-Control", "no-store" if ans.status >= 400 else "public, max-age=60")
    return Answer(ans.status, ans.body, ans.content_type, headers)


def prepare(endpoint: Endpoint, store: Any, *, method: str, query_string: bytes, content_type: str | None,
            accept: str | None, body: bytes | None, max_body: int) -> Plan | Answer | None:
    """The request's query checked and ready to evaluate (a Plan), a finished refusal (an Answer), or
    None when the request carries no query (the caller then serves the query page or the Service
    Description). ``body`` is None when it was over ``max_body``: the caller stops reading there."""
    if body is None:
        return finish(Answer(413, f"the request body is larger than this endpoint's limit of {max_body} bytes\n"
                                  .encode()))
    try:
        req = protocol.parse(method, query_string, content_type, body, max_query=max_body)
    except protocol.ProtocolError as exc:
        return finish(Answer(exc.status, (exc.message + "\n").encode(), headers=exc.headers))
    if req is None:
        return None

    def choose(form: str) -> str | None:
        table = offers(form)
        best = negotiate(accept, tuple(table))
        return table[best] if best else None

    plan = endpoint.plan(req, store_dir=store_dir(store), has_graph=has_graph(store), choose=choose)
    return finish(plan) if isinstance(plan, Answer) else plan


def answer(endpoint: Endpoint, store: Any, **request: Any) -> Answer | None:
    """``prepare`` (same arguments), then evaluate, blocking: the whole query operation."""
    plan = prepare(endpoint, store, **request)
    return finish(endpoint.evaluate(plan)) if isinstance(plan, Plan) else plan
