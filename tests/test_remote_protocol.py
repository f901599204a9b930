"""lod.remote's protocol side without Virtuoso: query text facts, answers, credentials and failures,
against small real HTTP servers on loopback that answer the way stores do (and the ways they fail).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pyoxigraph as ox
import pytest

from lod.remote import RemoteStore
from lod.remote_protocol import (
    _normalise_json,
    has_dataset_clause,
    names_constant_graph,
    query_form,
    substitute,
)
from lod.store import StoreError, StoreUnavailable

BASE = "http://localhost:8080/"


# ----------------------------------------------------------------------------------- query text
@pytest.mark.parametrize("query,form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("# a comment with SELECT\nPREFIX ex: <http://ex/#x>\nBASE <http://b/>\n  ask { ?s ?p ?o }", "ASK"),
    ("PREFIX : <http://ex/>\nCONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE <http://ex/a>", "DESCRIBE"),
])
def test_query_form(query: str, form: str) -> None:
    assert query_form(query)[0] == form


@pytest.mark.parametrize("query", [
    "", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DROP GRAPH <urn:g>", "LOAD <http://example.org/x>",
    "define input:grab-all 'yes' SELECT * WHERE { ?s ?p ?o }", "DEFINE sql:log-enable 3 SELECT * {}",
    "PREFIX ex: <http://ex/> define get:soft 'replace' SELECT * {}",
])
def test_updates_and_pragmas_are_refused(query: str) -> None:
    with pytest.raises(SyntaxError):
        query_form(query)


def test_graph_and_dataset_facts_ignore_strings_and_comments() -> None:
    assert names_constant_graph("SELECT * { GRAPH <http://g> { ?s ?p ?o } }")
    assert names_constant_graph("SELECT * { graph ex:g { ?s ?p ?o } }")
    assert not names_constant_graph("SELECT * { GRAPH ?g { ?s ?p ?o } }")
    assert not names_constant_graph('SELECT * { ?s ?p "GRAPH <x>" } # GRAPH <y>')
    assert not names_constant_graph("SELECT * { ?s <http://x/GRAPH> ?o }")
    assert has_dataset_clause("SELECT * FROM <http://g> { ?s ?p ?o }")
    assert has_dataset_clause("SELECT * FROM NAMED ex:g { GRAPH ?g { ?s ?p ?o } }")
    assert not has_dataset_clause("SELECT * { ?s ?p 'FROM <x>' }")


def test_substitutions_open_the_where_group() -> None:
    s = {ox.Variable("s"): ox.NamedNode("http://ex/a")}
    q = substitute("SELECT ?s ?p WHERE { ?s ?p ?o }", s)
    assert "VALUES (?s) { (<http://ex/a>) }" in q and q.index("VALUES") > q.index("WHERE {")
    # a CONSTRUCT template is skipped; braces in strings and IRIs do not count
    q = substitute('CONSTRUCT { ?s <http://x/{p}> "}" } WHERE { ?s ?p ?o }', s)
    assert q.index("VALUES") > q.index("WHERE {")
    with pytest.raises(SyntaxError):
        substitute("CONSTRUCT WHERE", s)


def test_virtuoso_answers_are_made_standard() -> None:
    body = json.dumps({"head": {"vars": ["b", "x"]}, "results": {"bindings": [
        {"b": {"type": "bnode", "value": "nodeID://b10001"},
         "x": {"type": "typed-literal", "datatype": "http://www.w3.org/2001/XMLSchema#boolean", "value": "1"}}]}})
    rows = list(ox.parse_query_results(_normalise_json(body.encode()), format=ox.QueryResultsFormat.JSON))
    assert isinstance(rows[0]["b"], ox.BlankNode)
    assert rows[0]["x"] == ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
    plain = b'{"head":{"vars":[]},"results":{"bindings":[]}}'
    assert _normalise_json(plain) is plain          # nothing to fix: not re-encoded


# ----------------------------------------------------------------------------------- fake stores
class FakeStore:
    """A loopback HTTP server answering SPARQL like a store would, or failing like one."""

    def __init__(self, behaviour: str, auth: str = "") -> None:
        self.behaviour, self.auth, self.seen = behaviour, auth, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                fake.seen.append((self.path, parse_qs(body), self.headers.get("Authorization")))
                if fake.auth == "basic":
                    want = "Basic " + base64.b64encode(b"lod:secret").decode()
                    if self.headers.get("Authorization") != want:
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="store"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                status, ctype, out = fake.answer(parse_qs(body))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, form: dict[str, list[str]]) -> tuple[int, str, bytes]:
        if self.behaviour == "503":
            return 503, "text/plain", b"busy"
        if self.behaviour == "html":
            return 200, "text/html", b"<html>a web page</html>"
        if "update" in form:
            return 200, "text/plain", b"ok"
        if self.behaviour == "syntax" and "urn:x-lod:catalog" not in form["query"][0]:
            return 400, "text/plain", b"Virtuoso 37000 Error SP030: syntax error\n\nSPARQL query:\n..."
        empty = {"head": {"vars": ["n", "v", "m"]}, "results": {"bindings": []}}
        return 200, "application/sparql-results+json", json.dumps(empty).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Iterator[FakeStore]:
    f = FakeStore(*request.param)
    yield f
    f.close()


@pytest.mark.parametrize("fake", [("503",)], indirect=True)
def test_a_store_answering_503_is_unavailable_not_broken(fake: FakeStore) -> None:
    store = RemoteStore(fake.url, base_uri=BASE)            # starts anyway
    with pytest.raises(StoreUnavailable, match="503"):
        store.query("SELECT * WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("fake", [("html",)], indirect=True)
def test_a_web_page_instead_of_an_endpoint_is_a_clear_error(fake: FakeStore) -> None:
    with pytest.raises(StoreError, match="text/html"):
        RemoteStore(fake.url, base_uri=BASE)


@pytest.mark.parametrize("fake", [("syntax",)], indirect=True)
def test_the_stores_syntax_error_is_a_syntax_error(fake: FakeStore) -> None:
    store = RemoteStore(fake.url, base_uri=BASE)
    with pytest.raises(SyntaxError, match="SP030"):          # as pyoxigraph raises it: the endpoint says 400
        store.query("SELECT * WHERE { ?s ?p ?o }")


@pytest.mark.parametrize("fake", [("ok", "basic")], indirect=True)
def test_basic_credentials_when_the_store_asks_for_basic(fake: FakeStore) -> None:
    store = RemoteStore(fake.url, base_uri=BASE, update_url=fake.url, user="lod", password="secret")
    rows = list(store.query("SELECT * WHERE { ?s ?p ?o }"))
    assert rows == []
    store.writer().update("DROP SILENT GRAPH <urn:x>")
    sent = [auth for _path, _form, auth in fake.seen]
    assert sent[0] is None and sent[1].startswith("Basic ")   # challenged once, then sent up front
    assert all(a and a.startswith("Basic ") for a in sent[2:])


@pytest.mark.parametrize("fake", [("ok",)], indirect=True)
def test_dataset_parameters_and_pragmas_sent(fake: FakeStore) -> None:
    store = RemoteStore(fake.url, base_uri=BASE)
    list(store.query("SELECT * WHERE { ?s ?p ?o }", default_graph=[ox.NamedNode("http://g1")],
                     named_graphs=[ox.NamedNode("http://g2")]))
    form: dict[str, Any] = fake.seen[-1][1]
    assert form["default-graph-uri"] == ["http://g1"] and form["named-graph-uri"] == ["http://g2"]
    assert "define" not in form["query"][0]                   # not Virtuoso: no pragmas
    list(store.query("SELECT * WHERE { ?s ?p ?o }", use_default_graph_as_union=False))
    assert fake.seen[-1][1]["default-graph-uri"] == ["urn:x-lod:empty-default-graph"]
    list(store.query("SELECT * FROM <http://g> WHERE { ?s ?p ?o }", use_default_graph_as_union=False))
    assert "default-graph-uri" not in fake.seen[-1][1]        # the query's FROM decides
