"""Dereferencing (docs/uris.md, "Dereferencing"): /id/... and /vocab/... answer 303 to a data document
chosen by Accept; /data/... negotiates (Vary: Accept, Content-Location); /data/....{ttl,jsonld,rdf,nt,html}
answer 200 whatever the Accept.

Every link and Location is built from the public base URI (settings.base_uri), never from the Host
of the request, so the answers are the same behind any reverse proxy. Responses carry validators
(ETag per build/resource/format, Last-Modified = the build time) and are cached per
(build, resource, format, page) in a bounded LRU.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, request

from lod.describe import Description
from lod.render import BY_EXT, BY_MEDIA_TYPE, FORMATS, Format
from lod.uris import iri_to_uri
from lod.web.documents import CORS_EXPOSE, State, find_thing, links, url
from lod.web.negotiation import negotiate

bp = Blueprint("resources", __name__)

# Server preference (ties, */*, no Accept): data first, Turtle the default; HTML for those who ask.
OFFERS = tuple(f.media_type for f in FORMATS)
ALIASES = {"application/x-turtle": "text/turtle", "application/turtle": "text/turtle",
           "application/json": "application/ld+json", "application/xhtml+xml": "text/html"}
ALL_OFFERS = OFFERS + tuple(ALIASES)


def state() -> State:
    return State.of(current_app)


# ------------------------------------------------------------------------------------ IRIs and URLs
def raw_path() -> str:
    """The request path as sent (percent-escapes intact), relative to the app root."""
    env = request.environ
    raw = env.get("RAW_URI") or env.get("REQUEST_URI") or quote(request.path)
    raw = raw.split("?", 1)[0]
    if "://" in raw:                              # absolute-form request target
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    script = env.get("SCRIPT_NAME", "")
    if script and raw.startswith(script):
        raw = raw[len(script):]
    return raw


# ------------------------------------------------------------------------------------ responses
def _settings() -> Any:
    return current_app.config["LOD_SETTINGS"]


def _page() -> int | Response:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 0 < int(raw) < 10**9:
        return _text(400, "bad query parameter page: a positive integer is expected\n")
    return int(raw)


def _text(status: int, body: str, **headers: str) -> Response:
    resp = Response(body, status=status, mimetype="text/plain", headers=headers)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _not_acceptable(doc_url: str, page: int) -> Response:
    lines = [f"{f.media_type}\t{url(doc_url, f, page)}" for f in FORMATS]
    resp = _text(406, "Not acceptable. Available representations:\n" + "\n".join(lines) + "\n")
    resp.headers["Link"] = links(doc_url, page, None, None)
    resp.headers["Vary"] = "Accept"
    return resp


def _chosen_format() -> Format | None:
    media = negotiate(request.headers.get("Accept"), ALL_OFFERS)
    if media is None:
        return None
    return BY_MEDIA_TYPE[ALIASES.get(media, media)]


def body_for(desc: Description, fmt: Format) -> bytes:
    return state().body(desc, fmt)


def describe(iri: str, page: int) -> Description | None:
    return state().describe(iri, page)


def document_response(desc: Description, fmt: Format, *, negotiated: bool) -> Response:
    ans = state().answer(desc, fmt, negotiated=negotiated, if_none_match=request.headers.get("If-None-Match"),
                         if_modified_since=request.headers.get("If-Modified-Since"))
    # a 304 keeps the document's media type for the after-request hooks (no HTML policy on Turtle);
    # werkzeug leaves Content-Type out of the 304 itself, as the front does
    resp = Response(ans.body, status=ans.status, headers=ans.headers,
                    mimetype=fmt.media_type if ans.status == 304 else None)
    request.environ["lod.cacheable"] = True
    return resp


# ------------------------------------------------------------------------------------ routes
def _see_other(prefix: str) -> Response:
    """/id/... or /vocab/...: 404 when unknown, else 303 to the document in the negotiated format."""
    page = _page()
    if isinstance(page, Response):
        return page
    st = state()
    rel = raw_path().lstrip("/")
    if st.describer.minter.base + rel == st.describer.minter.dataset:
        resp = Response(status=303)
        resp.headers["Location"] = iri_to_uri(_settings().base_uri + ".well-known/void")
        resp.headers["Vary"] = "Accept"
        resp.headers["Access-Control-Allow-Origin"] = "*"
        return resp
    iri = find_thing(st.describer, [rel])
    if iri is None or not rel.startswith(prefix):
        return _text(404, "Not found: no resource has this IRI in the published dataset.\n")
    doc_url = st.describer.doc_url(iri)
    fmt = _chosen_format()
    if fmt is None:
        return _not_acceptable(doc_url, page)
    resp = Response(status=303)
    resp.headers["Location"] = url(doc_url, fmt, page)
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = links(doc_url, page, None, None)
    resp.headers["Cache-Control"] = f"public, max-age={_settings().cache_max_age}"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE
    request.environ["lod.cacheable"] = True
    return resp


@bp.route("/id/<path:rest>", methods=["GET", "HEAD"])
def thing(rest: str) -> Response:
    return _see_other("id/")


@bp.route("/vocab/", defaults={"rest": ""}, methods=["GET", "HEAD"])
@bp.route("/vocab/<path:rest>", methods=["GET", "HEAD"])
def vocab_term(rest: str) -> Response:
    return _see_other("vocab/")


@bp.route("/data/<path:rest>", methods=["GET", "HEAD"])
def data_document(rest: str) -> Response:
    page = _page()
    if isinstance(page, Response):
        return page
    st = state()
    rel = raw_path().lstrip("/")          # data/person/x or data/person/x.ttl
    if not rel.startswith("data/"):
        return _text(404, "Not found.\n")
    stem, dot, ext = rel.rpartition(".")
    fmt = BY_EXT.get(ext) if dot and "/" not in ext else None
    tries = ([(stem, fmt)] if fmt else []) + [(rel, None)]
    for doc_rel, chosen in tries:
        thing_rel = st.describer.thing_of(doc_rel)[len(st.describer.minter.base):]
        iri = find_thing(st.describer, [thing_rel])
        if iri is None:
            continue
        desc = describe(iri, page)
        if desc is None:
            return _text(404, f"Not found: page {page} does not exist.\n")
        if chosen is not None:
            return document_response(desc, chosen, negotiated=False)
        negotiated = _chosen_format()
        if negotiated is None:
            return _not_acceptable(desc.doc_url, page)
        return document_response(desc, negotiated, negotiated=True)
    return _text(404, "Not found: no resource has this IRI in the published dataset.\n")


@bp.after_request
def _cors_preflight(resp: Response) -> Response:
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Origin"] = "*"
        resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "Accept, If-None-Match, If-Modified-Since"
        resp.headers["Access-Control-Max-Age"] = "86400"
    return resp
