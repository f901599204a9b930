"""The production front (lod.web.asgi) in front of the Flask resources: documents of the embedded store
are answered on the event loop (RDF formats without Flask at all, lod.web.documents), everything else in
a thread pool, and every path gives Flask's own answer: status, headers and body, 304s included.

Driven in-process through the ASGI interface, like test_sparql_front; the gunicorn path over real HTTP
is in test_serve.
"""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest
from conftest import close_app, make_app
from test_sparql_front import IGNORED, _call

from lod.web.asgi import Front


def _requests(keys: list[str], etag: str) -> list[tuple[str, str, dict[str, str]]]:
    k = quote(keys[0], safe="")
    return [
        ("GET", f"/data/document/{k}.ttl", {"If-None-Match": etag}),
        ("GET", f"/data/document/{k}.ttl", {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}),
        ("GET", f"/data/document/{k}.ttl", {"If-None-Match": '"something-else"'}),
        ("GET", f"/data/document/{k}.ttl", {}),
        ("GET", f"/data/document/{k}.html", {}),
        ("GET", f"/data/document/{quote(keys[1], safe='')}", {"Accept": "application/ld+json"}),
        ("GET", f"/data/document/{quote(keys[2], safe='')}.rdf", {}),
        ("GET", f"/data/document/{quote(keys[3], safe='')}.nt", {}),
        ("HEAD", f"/data/document/{k}.ttl", {}),
        ("GET", f"/id/document/{k}", {"Accept": "text/html"}),
        ("GET", "/data/document/no-such-record.ttl", {}),
        ("GET", f"/data/document/{k}", {"Accept": "image/png"}),
        ("GET", f"/data/document/{k}.ttl?page=2", {}),
        ("GET", f"/data/document/{k}.ttl?page=x", {}),
    ]


@pytest.mark.parametrize("inline", [True, False], ids=["on the event loop", "in the pool"])
def test_documents_get_flasks_answer_either_way(built, inline: bool) -> None:  # noqa: ANN001
    app = make_app(built)
    front = Front(app, inline=inline)
    flask = app.test_client()
    keys = sorted(e.key for e in app.config["LOD_STORE"].catalog.all() if not e.deleted)
    etag = flask.get(f"/data/document/{quote(keys[0], safe='')}.ttl").headers["ETag"]
    try:
        for method, target, headers in _requests(keys, etag):
            path, _, qs = target.partition("?")
            for _ in range(3):                              # the third one may come from the front's cache
                status, got, body = asyncio.run(_call(front, method, path, qs.encode(), headers))
                ref = flask.open(target, method=method, headers=headers)
                assert status == ref.status_code, target
                assert body == ref.data, target
                assert {k: v for k, v in got.items() if k not in IGNORED} == {
                    k.lower(): v for k, v in ref.headers.items() if k.lower() not in IGNORED}, target
        # the documents never went through the pool when answered on the event loop
        assert (len(front.executor._threads) == 0) is inline
        status, _, body = asyncio.run(_call(front, "GET", f"/data/document/{quote(keys[0], safe='')}.ttl",
                                            headers={"If-None-Match": etag}))
        assert (status, body) == (304, b"")
    finally:
        front.executor.shutdown(wait=False)
        front.waiting.shutdown(wait=False)
        close_app(app)


def test_other_pages_still_go_through_the_pool(built) -> None:  # noqa: ANN001
    app = make_app(built)
    front = Front(app)
    try:
        status, headers, body = asyncio.run(_call(front, "GET", "/.well-known/void", headers={"Accept": "text/turtle"}))
        assert status == 200 and b"void:Dataset" in body
        assert len(front.executor._threads) == 1
    finally:
        front.executor.shutdown(wait=False)
        front.waiting.shutdown(wait=False)
        close_app(app)


def test_a_document_is_kept_on_its_second_request_not_its_first(built) -> None:  # noqa: ANN001
    """A crawl asking for every document once leaves the cache as it was (lod.web.cache.LRU); a document
    asked for again is kept and then answered from the cache: the same bytes, without the app."""
    app = make_app(built)
    front = Front(app)
    keys = sorted(e.key for e in app.config["LOD_STORE"].catalog.all() if not e.deleted)
    try:
        crawl = [asyncio.run(_call(front, "GET", f"/data/document/{quote(k, safe='')}.ttl")) for k in keys]
        assert [r[0] for r in crawl] == [200] * len(keys) and len(keys) >= 4
        assert len(front.responses) == 0 and front.responses.size == 0
        path = f"/data/document/{quote(keys[0], safe='')}.ttl"
        second = asyncio.run(_call(front, "GET", path))
        assert len(front.responses) == 1 and second[2] == crawl[0][2]
        front.inline = False
        front.executor.shutdown(wait=True)          # nothing can reach the app any more: only the cache answers
        third = asyncio.run(_call(front, "GET", path))
        assert third[0] == 200 and third[2] == crawl[0][2] and third[1]["etag"] == crawl[0][1]["etag"]
    finally:
        front.executor.shutdown(wait=False)
        front.waiting.shutdown(wait=False)
        close_app(app)
