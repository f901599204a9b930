"""Dataset-level pages: home, browse/search, VoID and DCAT, dumps, sitemap, robots.txt, the JSON-LD context."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, g, render_template, request, send_file

from lod import dataset as core
from lod.render import BY_MEDIA_TYPE, FORMATS, jsonld_object, serialize
from lod.web import cache
from lod.web.html import embed_json, href
from lod.web.negotiation import negotiate

bp = Blueprint("dataset", __name__)

DUMPS = {"dataset.nt.gz", "dataset.ttl.gz"}
OFFERS = tuple(f.media_type for f in FORMATS)


def _s() -> Any:
    return current_app.config["LOD_SETTINGS"]


def _build() -> str:
    b = getattr(g.store, "build", None)
    return b.name if b is not None else "remote"


def _meta() -> dict[str, str]:
    cat = getattr(g.store, "catalog", None)
    return cat.meta() if cat is not None else {}


def _cached(resp: Response, *, tag: str | None = None, max_age: int | None = None) -> Response:
    s = _s()
    resp.headers["Cache-Control"] = f"public, max-age={s.cache_max_age if max_age is None else max_age}"
    resp.headers["Access-Control-Allow-Origin"] = "*"
    last = cache.http_date(_meta().get("built_at"))
    if last:
        resp.headers["Last-Modified"] = last
    if tag:
        resp.headers["ETag"] = tag
    if cache.not_modified(resp.headers.get("ETag"), last, request.headers.get("If-None-Match"),
                          request.headers.get("If-Modified-Since")):
        return Response(status=304, headers=[(k, v) for k, v in resp.headers.items()
                                             if k.lower() in cache.KEEP_ON_304])
    request.environ["lod.cacheable"] = True
    return resp


def _bad(exc: core.SearchError) -> Response:
    return Response(str(exc) + "\n", status=400, mimetype="text/plain")


def _page_arg() -> int:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 0 < int(raw) < 10**6:
        raise core.SearchError("page", "a positive integer is expected")
    return int(raw)


def _render(template: str, **kw: Any) -> Response:
    s = _s()
    return Response(render_template(template, settings=s, base=s.base_uri, href=href, **kw), mimetype="text/html")


# ------------------------------------------------------------------------------------ HTML
@bp.route("/", methods=["GET", "HEAD"])
def home() -> Response:
    s = _s()
    stats = core.statistics(g.store, s.base_uri)
    recent = core.search(g.store, s.base_uri, page_size=20)
    triples = core.description(g.store, s, current_app.config["LOD_MINTER"])
    jsonld = embed_json(jsonld_object(triples, s.base_uri + "context.jsonld"))
    return _cached(_render("home.html", stats=stats, recent=recent, jsonld=jsonld),
                   tag=cache.etag(_build(), "home", "html"))


@bp.route("/browse", methods=["GET", "HEAD"])
@bp.route("/search", methods=["GET", "HEAD"])
def browse() -> Response:
    s = _s()
    args = request.args
    params = {"title": args.get("title", ""), "person": args.get("person", ""),
              "date_from": args.get("from", ""), "date_to": args.get("to", "")}
    try:
        result = core.search(g.store, s.base_uri, page=_page_arg(), **params)
    except core.SearchError as exc:
        return _bad(exc)
    listing = {"@context": s.base_uri + "context.jsonld", "@graph": [
        {"@id": h.iri, "dcterms:title": h.title, "dcterms:date": h.date} for h in result.hits]}
    query = {k: v for k, v in (("title", params["title"]), ("person", params["person"]),
                               ("from", params["date_from"]), ("to", params["date_to"])) if v}
    return _render("browse.html", result=result, params=params, query=query, jsonld=embed_json(listing),
                   heading="Search" if request.path.endswith("search") else "Browse documents")


@bp.route("/browse/people", methods=["GET", "HEAD"])
def browse_people() -> Response:
    s = _s()
    name = request.args.get("name", "")
    try:
        result = core.people_page(g.store, s.base_uri, name=name, page=_page_arg(),
                                    page_size=max(1, s.people_page_size))
    except core.SearchError as exc:
        return _bad(exc)
    listing = {"@context": s.base_uri + "context.jsonld",
               "@graph": [{"@id": iri, "rdfs:label": label} for iri, label, _ in result.rows]}
    query = {"name": name} if name else {}
    return _cached(_render("people.html", result=result, query=query, name=name, jsonld=embed_json(listing)),
                   tag=cache.etag(_build(), "people\0" + name, "html", result.page))


# ------------------------------------------------------------------------------------ VoID / DCAT
@bp.route("/.well-known/void", methods=["GET", "HEAD"])
@bp.route("/catalog", methods=["GET", "HEAD"])
def void() -> Response:
    s = _s()
    media = negotiate(request.headers.get("Accept"), OFFERS)
    if media is None:
        resp = Response("Not acceptable. Available: " + ", ".join(OFFERS) + "\n", status=406,
                        mimetype="text/plain")
        resp.headers["Vary"] = "Accept"
        return resp
    fmt = BY_MEDIA_TYPE[media]
    triples = core.description(g.store, s, current_app.config["LOD_MINTER"])
    if fmt.name == "html":
        stats = core.statistics(g.store, s.base_uri)
        jsonld = embed_json(jsonld_object(triples, s.base_uri + "context.jsonld"))
        resp = _render("void.html", stats=stats, jsonld=jsonld,
                       turtle=serialize(triples, BY_MEDIA_TYPE["text/turtle"], context_url="").decode())
    else:
        body = serialize(triples, fmt, context_url=s.base_uri + "context.jsonld")
        ctype = fmt.media_type + ("; charset=utf-8" if fmt.media_type.startswith("text/") else "")
        resp = Response(body, content_type=ctype)
    resp.headers["Vary"] = "Accept"
    resp.headers["Link"] = ", ".join(f'<{s.base_uri}.well-known/void>; rel="alternate"; type="{f.media_type}"'
                                     for f in FORMATS)
    return _cached(resp, tag=cache.etag(_build(), request.path, fmt.name))


@bp.route("/context.jsonld", methods=["GET", "HEAD"])
def context() -> Response:
    from lod.render import context_document
    body = json.dumps(context_document(), indent=1, sort_keys=True)
    return _cached(Response(body, mimetype="application/ld+json"), tag=cache.etag("static", "context", "jsonld"),
                   max_age=86400)


# ------------------------------------------------------------------------------------ files
@bp.route("/dumps/<name>", methods=["GET", "HEAD"])
def dumps(name: str) -> Response:
    if name not in DUMPS:          # a fixed list: no path ever comes from the request
        return Response("Not found: the dumps are " + ", ".join(sorted(DUMPS)) + "\n", status=404,
                        mimetype="text/plain")
    path = g.store.dumps / name
    if not path.is_file():
        return Response("Not found: this build has no such dump.\n", status=404, mimetype="text/plain")
    # absolute: Flask resolves a relative path against the package, not the working directory, and
    # `make serve` names its store relatively (var/store)
    resp = send_file(path.absolute(), mimetype="application/gzip", as_attachment=False, conditional=True,
                     etag=cache.etag(_build(), name, "gz").strip('"'), max_age=_s().cache_max_age)
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


def _sitemap_urls() -> list[tuple[str, str]]:
    from lod.web.resources import state
    st = state()
    key = (_build(), "sitemap", "urls", 0)
    urls = st.bodies.get(key)
    if urls is None:
        urls = core.sitemap_urls(g.store, _s().base_uri, st.describer)
        st.bodies.put(key, urls, 100 * len(urls))
    return urls


@bp.route("/sitemap.xml", methods=["GET", "HEAD"])
def sitemap() -> Response:
    urls = _sitemap_urls()
    if len(urls) > core.SITEMAP_MAX:
        parts = -(-len(urls) // core.SITEMAP_MAX)
        body = core.sitemap_index(_s().base_uri, parts)
    else:
        body = core.sitemap_xml(urls)
    return _cached(Response(body, mimetype="application/xml"), tag=cache.etag(_build(), "sitemap", "xml"))


@bp.route("/sitemap-<int:part>.xml", methods=["GET", "HEAD"])
def sitemap_part(part: int) -> Response:
    urls = _sitemap_urls()
    chunk = urls[(part - 1) * core.SITEMAP_MAX: part * core.SITEMAP_MAX] if part >= 1 else []
    if not chunk:
        return Response("Not found.\n", status=404, mimetype="text/plain")
    return _cached(Response(core.sitemap_xml(chunk), mimetype="application/xml"),
                   tag=cache.etag(_build(), f"sitemap-{part}", "xml"))


@bp.route("/robots.txt", methods=["GET", "HEAD"])
def robots() -> Response:
    return _cached(Response(core.robots_txt(_s().base_uri), mimetype="text/plain"),
                   tag=cache.etag(_build(), "robots", "txt"))
