"""A fake Wikidata on loopback: a REAL HTTP server answering with Wikidata's response shapes.

Serves, from tests/fixtures/reconcile/ (TEST FIXTURES, see entities.json "_fixture"):
- ``/w/api.php?action=wbsearchentities`` prefix search on labels/aliases of the requested language
  (exact labels first, then by sitelink count), hits and misses;
- ``/w/api.php?action=wbgetentities`` with claims, redirected items (``redirects: {from, to}``),
  missing items (``missing: ""``), more than 50 ids -> ``toomanyvalues`` error, bad ids -> ``no-such-entity``;
- ``/sparql``: real SPARQL (pyoxigraph) over a small class hierarchy, SPARQL results JSON;
- ``/reconcile``: a W3C Reconciliation Service (manifest on GET, ``queries`` on POST);
  ``/reconcile-elsewhere`` declares a non-Wikidata identifier space.
Faults are planned per test: ``fake.plan("maxlag" | "429" | "503" | "500" | "hang" | "malformed" |
"error" | "slow" | "trickle", times=N, match="substring of the query")``. Every request is recorded (``fake.requests``,
``fake.count``, ``fake.max_active`` for concurrency, ``fake.gzipped``).
"""

from __future__ import annotations

import gzip
import json
import threading
import unicodedata
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reconcile"
ZH = ("zh", "zh-hans", "zh-hant", "zh-cn", "zh-tw", "zh-hk")


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).casefold().strip()


@dataclass
class Fault:
    kind: str
    times: int
    match: str = ""


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


@dataclass
class FakeWikidata:
    entities: dict[str, Any] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    retry_after: str = "1"          # "" sends no Retry-After header
    hang_seconds: float = 3.0
    requests: list[Seen] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    max_active: int = 0
    gzipped: int = 0
    url: str = ""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._stop = threading.Event()
        if not self.entities:
            doc = json.loads((FIXTURES / "entities.json").read_text(encoding="utf-8"))
            self.entities, self.redirects = doc["entities"], doc["redirects"]
        import pyoxigraph as ox

        self.store = ox.Store()
        self.store.load(path=str(FIXTURES / "classes.ttl"), format=ox.RdfFormat.TURTLE)

    # --- control -------------------------------------------------------------------------------
    @property
    def api(self) -> str:
        return self.url + "w/api.php"

    @property
    def sparql(self) -> str:
        return self.url + "sparql"

    @property
    def service(self) -> str:
        return self.url + "reconcile"

    @property
    def count(self) -> int:
        return len(self.requests)

    def plan(self, kind: str, times: int = 1, match: str = "") -> None:
        with self._lock:
            self.faults.append(Fault(kind, times, match))

    def _take_fault(self, raw: str) -> str | None:
        with self._lock:
            for f in self.faults:
                if f.times > 0 and (not f.match or f.match in raw):
                    f.times -= 1
                    return f.kind
        return None

    # --- answers -------------------------------------------------------------------------------
    def _names(self, ent: dict[str, Any], lang: str | None) -> list[tuple[str, str, str]]:
        langs = ZH if lang == "zh" else (lang,) if lang else None
        out = []
        for lg, v in ent.get("labels", {}).items():
            if langs is None or lg in langs or lg == "mul":
                out.append(("label", lg, v["value"]))
        for lg, vs in ent.get("aliases", {}).items():
            if langs is None or lg in langs or lg == "mul":
                out.extend(("alias", lg, v["value"]) for v in vs)
        return out

    def _matches(self, query: str, lang: str | None) -> list[tuple[int, str, tuple[str, str, str]]]:
        q = _fold(query)
        hits = []
        for qid, ent in self.entities.items():
            best = None
            for how, lg, text in self._names(ent, lang):
                if _fold(text).startswith(q):
                    rank = 0 if _fold(text) == q else 1
                    if best is None or rank < best[0]:
                        best = (rank, (how, lg, text))
            if best:
                hits.append((best[0], -len(ent.get("sitelinks", {})), qid, best[1]))
        hits.sort()
        return [(r, qid, m) for r, _s, qid, m in hits]

    def search(self, p: dict[str, str]) -> dict[str, Any]:
        query, lang = p.get("search", ""), p.get("language", "en")
        limit = int(p.get("limit", "7"))
        found = self._matches(query, lang) if query.strip() else []
        out = []
        for _r, qid, (how, lg, text) in found[:limit]:
            ent = self.entities[qid]
            label = ent["labels"].get(lang, ent["labels"].get("en", {"value": text}))["value"]
            desc = ent.get("descriptions", {}).get("en", {}).get("value", "")
            hit = {"id": qid, "title": qid, "pageid": int(qid[1:]) % 100000000,
                   "concepturi": f"http://www.wikidata.org/entity/{qid}", "repository": "wikidata",
                   "url": f"//www.wikidata.org/wiki/{qid}",
                   "display": {"label": {"value": label, "language": lang},
                               "description": {"value": desc, "language": "en"}},
                   "label": label, "description": desc,
                   "match": {"type": how, "language": lg, "text": text}}
            if how == "alias":
                hit["aliases"] = [text]
            out.append(hit)
        body: dict[str, Any] = {"searchinfo": {"search": query}, "search": out, "success": 1}
        if len(found) > limit:
            body["search-continue"] = limit
        return body

    def get_entities(self, p: dict[str, str]) -> dict[str, Any]:
        ids = [i for i in p.get("ids", "").split("|") if i]
        if len(ids) > 50:
            return {"error": {"code": "toomanyvalues",
                              "info": 'Too many values supplied for parameter "ids". The limit is 50.',
                              "limit": 50, "lowlimit": 50, "highlimit": 500, "parameter": "ids"},
                    "servedby": "fake"}
        bad = [i for i in ids if not (i[:1] == "Q" and i[1:].isdigit())]
        if bad:
            return {"error": {"code": "no-such-entity", "info": f"Could not find an entity with the ID \"{bad[0]}\".",
                              "id": bad[0]}, "servedby": "fake"}
        props = set(p.get("props", "info|sitelinks|aliases|labels|descriptions|claims|datatype").split("|"))
        out = {}
        for qid in ids:
            target = self.redirects.get(qid, qid)
            ent = self.entities.get(target)
            if ent is None:
                out[qid] = {"id": qid, "missing": ""}
                continue
            e = {"type": "item", "id": target, **{k: v for k, v in ent.items() if k in props}}
            if target != qid:
                e["redirects"] = {"from": qid, "to": target}
            out[qid] = e
        return {"entities": out, "success": 1}

    def run_sparql(self, query: str) -> bytes:
        import pyoxigraph as ox

        return self.store.query(query).serialize(format=ox.QueryResultsFormat.JSON)

    def manifest(self, space: str) -> dict[str, Any]:
        return {"versions": ["0.2"], "name": "Fake Wikidata reconciliation (TEST FIXTURE)",
                "identifierSpace": space, "schemaSpace": "http://www.wikidata.org/prop/direct/",
                "defaultTypes": [{"id": "Q5", "name": "human"}]}

    def reconcile(self, queries: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, q in queries.items():
            results = []
            for rank, qid, (_how, _lg, text) in self._matches(str(q.get("query", "")), None):
                ent = self.entities[qid]
                p31 = [c["mainsnak"]["datavalue"]["value"]["id"] for c in ent.get("claims", {}).get("P31", [])]
                want = q.get("type")
                if want and want not in p31 and not (want == "Q43229" and "Q7278" in p31):
                    continue
                results.append({"id": qid, "name": ent["labels"].get("en", {"value": text})["value"],
                                "description": ent.get("descriptions", {}).get("en", {}).get("value", ""),
                                "type": [{"id": c, "name": c} for c in p31], "score": 100 if rank == 0 else 60,
                                "match": False})
            results = results[: int(q.get("limit", 7))]
            if len(results) == 1 and results[0]["score"] == 100:
                results[0]["match"] = True
            out[key] = {"result": results}
        return out


class _Handler(BaseHTTPRequestHandler):
    fake: FakeWikidata
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True      # headers and body go out in two writes: avoid 40 ms delayed ACKs

    def log_message(self, *a: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._handle(None)

    def do_POST(self) -> None:  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        self._handle(self.rfile.read(n).decode("utf-8"))

    def _handle(self, body: str | None) -> None:
        fake = self.fake
        parts = urlsplit(self.path)
        raw = parts.query if body is None else body
        params = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
        with fake._lock:
            fake.requests.append(Seen(self.command, parts.path, params, dict(self.headers.items())))
            fake._active += 1
            fake.max_active = max(fake.max_active, fake._active)
        self._counted = True
        try:
            self._answer(parts.path, params, raw)
        finally:
            self._leave()

    def _leave(self) -> None:
        """A request stops counting as active once its answer starts: the client may have the whole
        answer, and send its next request, before this thread gets past its last write."""
        if getattr(self, "_counted", False):
            self._counted = False
            with self.fake._lock:
                self.fake._active -= 1

    def send_response(self, code: int, message: str | None = None) -> None:
        self._leave()
        super().send_response(code, message)

    def _answer(self, path: str, params: dict[str, str], raw: str) -> None:
        fake = self.fake
        fault = fake._take_fault(path + "?" + raw)
        if fault == "slow":                      # answers normally, late: shows requests never overlap
            fake._stop.wait(0.2)
            fault = None
        if fault == "trickle":                   # a complete answer, 1 KB every 0.1 s: beats read timeouts
            return self._trickle()
        if fault == "hang":
            fake._stop.wait(fake.hang_seconds)
            return self._send(200, b'{"too": "late"}')
        if fault in ("429", "503"):
            return self._send(int(fault), b"Too many requests", "text/plain",
                              {"Retry-After": fake.retry_after} if fake.retry_after else {})
        if fault == "500":
            return self._send(500, b"<html>Internal error</html>", "text/html")
        if fault == "malformed":
            return self._send(200, b'{"entities": {"Q1": {"id": "Q1", "labels": {')
        if fault == "maxlag":
            err = {"error": {"code": "maxlag", "info": "Waiting for 10.64.48.35: 6.3 seconds lagged.",
                             "host": "10.64.48.35", "lag": 6.3, "type": "db",
                             "*": "See https://www.wikidata.org/w/api.php for API usage."}, "servedby": "mw-fake"}
            return self._send(200, json.dumps(err).encode(), headers={
                "X-Database-Lag": "6.3", **({"Retry-After": fake.retry_after} if fake.retry_after else {})})
        if fault == "error":
            err = {"error": {"code": "internal_api_error_DBQueryError", "info": "[fake] Database query error."}}
            return self._send(200, json.dumps(err).encode())
        if path == "/w/api.php":
            action = params.get("action")
            if action == "wbsearchentities":
                return self._json(fake.search(params))
            if action == "wbgetentities":
                return self._json(fake.get_entities(params))
            return self._json({"error": {"code": "badvalue", "info": f"Unrecognized value for action: {action}"}})
        if path == "/sparql":
            try:
                return self._send(200, fake.run_sparql(params.get("query", "")), "application/sparql-results+json")
            except (SyntaxError, ValueError, OSError) as exc:
                return self._send(400, str(exc).encode(), "text/plain")
        if path in ("/reconcile", "/reconcile-elsewhere"):
            space = ("http://www.wikidata.org/entity/" if path == "/reconcile" else "http://example.org/ids/")
            if "queries" not in params:
                return self._json(fake.manifest(space))
            return self._json(fake.reconcile(json.loads(params["queries"])))
        return self._send(404, b"not found", "text/plain")

    def _trickle(self) -> None:
        body = json.dumps({"entities": {}, "padding": "x" * 20000}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), 1024):
                if self.fake._stop.wait(0.1):
                    return
                self.wfile.write(body[i:i + 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _json(self, obj: Any) -> None:
        self._send(200, json.dumps(obj, ensure_ascii=False).encode("utf-8"))

    def _send(self, status: int, body: bytes, ctype: str = "application/json; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        if "gzip" in (self.headers.get("Accept-Encoding") or "") and status == 200:
            body = gzip.compress(body)
            headers = {**(headers or {}), "Content-Encoding": "gzip"}
            with self.fake._lock:
                self.fake.gzipped += 1
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass       # the client gave up (timeout tests)


class FakeServer:
    """Start with ``FakeServer()``; ``.fake`` is the state; ``.close()`` stops it."""

    def __init__(self, fake: FakeWikidata | None = None) -> None:
        self.fake = fake or FakeWikidata()
        handler = type("Handler", (_Handler,), {"fake": self.fake})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.fake.url = f"http://127.0.0.1:{self.httpd.server_port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.fake._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
