"""Dereferencing (docs/uris.md, "Dereferencing"): /id/... and /vocab/... answer 303 to a data document
chosen by Accept; /data/... negotiates (Vary: Accept, Content-Location); /data/....{ttl,jsonld,rdf,nt,html}
answer 200 whatever the Accept.

Every link and Location is built from the public base URI (settings.base_uri), never from the Host
of the request, so the answers are the same behind any reverse proxy. Responses carry validators
(ETag per build/resource/format, Last-Modified = the build time) and are cached per
(build, resource, format, page) in a bounded LRU.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from flask import Blueprint, Response, current_app, g, request

from lod.describe import Describer, Description
from lod.oai.prepared import PreparedFiles
from lod.render import BY_EXT, BY_MEDIA_TYPE, FORMATS, Format, serialize, serialize_lines
from lod.uris import iri_to_uri
from lod.web import cache
from lod.web.negotiation import negotiate

bp = Blueprint("resources", __name__)

# Server preference (ties, */*, no Accept): data first, Turtle the default; HTML for those who ask.
OFFERS = tuple(f.media_type for f in FORMATS)
ALIASES = {"application/x-turtle": "text/turtle", "application/turtle": "text/turtle",
           "application/json": "application/ld+json", "application/xhtml+xml": "text/html"}
ALL_OFFERS = OFFERS + tuple(ALIASES)
CORS_EXPOSE = "Link, Content-Location, Location, ETag, Last-Modified, Vary"
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_UNRESERVED = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@")


@dataclass
class State:
    describer: Describer
    bodies: cache.LRU


def state() -> State:
    st = current_app.extensions.get("lod.resources")
    if st is None:
        s = current_app.config["LOD_SETTINGS"]
        describer = Describer(current_app.config["LOD_STORE"], current_app.config["LOD_MINTER"],
                              licence=s.licence, page_size=s.inverse_page_size, prepared=PreparedFiles(s))
        # a quarter of settings.response_cache_mb (the front keeps whole responses in the rest)
        st = current_app.extensions["lod.resources"] = State(describer, cache.LRU(
            max_bytes=int(s.response_cache_mb) * 2**18))
    return st


# ------------------------------------------------------------------------------------ IRIs and URLs
def _decode(raw: str, keep_ascii: bool) -> str:
    """Decode %XX runs: non-ASCII UTF-8 always; unreserved/sub-delim ASCII too unless keep_ascii."""
    def fix(m: re.Match[str]) -> str:
        data = unquote_to_bytes(m.group(0))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return m.group(0)
        out = []
        for ch, piece in zip(text, _pieces(m.group(0), text), strict=True):
            if ord(ch) >= 128 or (not keep_ascii and ord(ch) in _UNRESERVED):
                out.append(ch)
            else:
                out.append(piece)
        return "".join(out)
    return _PERCENT.sub(fix, raw)


def _pieces(encoded: str, text: str) -> list[str]:
    """The %XX groups of ``encoded`` per decoded character of ``text``."""
    out, i = [], 0
    for ch in text:
        n = len(ch.encode("utf-8")) * 3
        out.append(encoded[i:i + n])
        i += n
    return out


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


def candidates(base: str, rel: str) -> list[str]:
    """IRIs a request path may name: as sent; non-ASCII decoded; unreserved escapes decoded too."""
    out = [base + rel, base + _decode(rel, True), base + _decode(rel, False)]
    return list(dict.fromkeys(out))


def find_thing(describer: Describer, rels: list[str]) -> str | None:
    base = describer.minter.base
    for rel in rels:
        for iri in candidates(base, rel):
            if describer.exists(iri):
                return iri
    return None


# ------------------------------------------------------------------------------------ responses
def _settings() -> Any:
    return current_app.config["LOD_SETTINGS"]


def _meta() -> dict[str, str]:
    cat = getattr(g.store, "catalog", None)
    return cat.meta() if cat is not None else {}


def _build_id() -> str:
    build = getattr(g.store, "build", None)
    return build.name if build is not None else "remote"


def _page() -> int | Response:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 0 < int(raw) < 10**9:
        return _text(400, "bad query parameter page: a positive integer is expected\n")
    return int(raw)


def _text(status: int, body: str, **headers: str) -> Response:
    resp = Response(body, status=status, mimetype="text/plain", headers=headers)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _url(doc_url: str, fmt: Format | None, page: int) -> str:
    url = doc_url + ("." + fmt.ext if fmt else "")
    return iri_to_uri(url if page == 1 else f"{url}?page={page}")


def _links(doc_url: str, page: int, desc: Description | None, fmt: Format | None) -> str:
    links = [f'<{_url(doc_url, f, page)}>; rel="alternate"; type="{f.media_type}"' for f in FORMATS]
    if desc is not None:
        if desc.next_page:
            links.append(f'<{_url(doc_url, fmt, desc.next_page)}>; rel="next"')
        if desc.prev_page:
            links.append(f'<{_url(doc_url, fmt, desc.prev_page)}>; rel="prev"')
        links.append(f'<{iri_to_uri(desc.thing)}>; rel="describes"')
    return ", ".join(links)


def _not_acceptable(doc_url: str, page: int) -> Response:
    lines = [f"{f.media_type}\t{_url(doc_url, f, page)}" for f in FORMATS]
    resp = _text(406, "Not acceptable. Available representations:\n" + "\n".join(lines) + "\n")
    resp.headers["Link"] = _links(doc_url, page, None, None)
    resp.headers["Vary"] = "Accept"
    return resp


def _chosen_format() -> Format | None:
    media = negotiate(request.headers.get("Accept"), ALL_OFFERS)
    if media is None:
        return None
    return BY_MEDIA_TYPE[ALIASES.get(media, media)]


def body_for(desc: Description, fmt: Format) -> bytes:
    st = state()
    key = (_build_id(), desc.thing, fmt.name, desc.page)
    body = st.bodies.get(key)
    if body is None:
        if fmt.name == "html":
            from lod.web import html
            body = html.render_description(desc).encode()
        elif desc.nt is not None and fmt.name != "jsonld":
            body = serialize_lines(desc.nt, fmt)
        else:
            body = serialize(desc.triples, fmt, context_url=_settings().base_uri + "context.jsonld")
        st.bodies.put(key, body, len(body))
    return body


def describe(iri: str, page: int) -> Description | None:
    st = state()
    key = (_build_id(), iri, "description", page)
    desc = st.bodies.get(key)
    if desc is None:
        desc = st.describer.describe(iri, page, meta=_meta())
        if desc is None:
            return None
        st.bodies.put(key, desc, len(desc.nt) * 2 if desc.nt is not None else 200 * len(desc.triples))
    return desc


def document_response(desc: Description, fmt: Format, *, negotiated: bool) -> Response:
    s = _settings()
    meta = _meta()
    body = body_for(desc, fmt)
    ctype = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
    resp = Response(body, status=200, content_type=ctype)
    h = resp.headers
    h["ETag"] = cache.etag(_build_id(), desc.thing, fmt.name, desc.page)
    last = cache.http_date(meta.get("built_at"))
    if last:
        h["Last-Modified"] = last
    h["Cache-Control"] = f"public, max-age={s.cache_max_age}"
    h["Link"] = _links(desc.doc_url, desc.page, desc, fmt)
    h["Access-Control-Allow-Origin"] = "*"
    h["Access-Control-Expose-Headers"] = CORS_EXPOSE
    if negotiated:
        h["Vary"] = "Accept"
        h["Content-Location"] = _url(desc.doc_url, fmt, desc.page)
    if cache.not_modified(h["ETag"], last, request.headers.get("If-None-Match"),
                          request.headers.get("If-Modified-Since")):
        resp = Response(status=304, headers=[(k, v) for k, v in h.items() if k.lower() in cache.KEEP_ON_304])
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
    resp.headers["Location"] = _url(doc_url, fmt, page)
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = _links(doc_url, page, None, None)
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
