"""A polite, robust Wikidata client (Action API, SPARQL, W3C Reconciliation Service).

Wikidata's API etiquette, as code: a User-Agent naming the tool and a contact, ``maxlag=5``
(whose error arrives as HTTP 200 with ``error.code == "maxlag"``, so the body is checked),
``Retry-After`` honoured on 429/503/maxlag with exponential backoff, one request at a time
(a process-wide lock), gzip, a connect/read timeout and a total deadline on every call. Good answers
go to the on-disk cache, errors never do; offline, the cache is the only source.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from lod import __version__
from lod.reconcile.cache import Cache, Cached

QID = re.compile(r"^Q[1-9]\d*$")
BATCH = 50                    # wbgetentities accepts at most 50 ids per request
ENTITY_PROPS = "claims|labels|descriptions|aliases|sitelinks"
_CONTACT = re.compile(r"^(https?://\S+\.\S+|mailto:\S+@\S+|[^@\s/]+@[^@\s]+\.[^@\s]+)$")


class ReconcileError(Exception):
    """Base of the reconciler's reported failures."""


class ContactRequired(ReconcileError):
    """Online use without a usable contact: a usage error (exit 2)."""


class RequestFailed(ReconcileError):
    def __init__(self, url: str, reason: str, attempts: int) -> None:
        self.url, self.reason, self.attempts = url, reason, attempts
        super().__init__(f"{url}: {reason}")


class NotCached(ReconcileError):
    """Offline and the answer is not in the cache."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"offline: not in cache: {what}")


def check_contact(contact: str) -> str:
    c = (contact or "").strip()
    if not c:
        raise ContactRequired("Wikidata asks every client to name a contact: set --contact URL-or-email "
                              "(or LOD_CONTACT), or use --offline to work from the cache")
    if not _CONTACT.match(c) or any(ch in c for ch in "()\r\n"):
        raise ContactRequired(f"--contact must be a URL (https://…) or an e-mail address, not {c!r}")
    return c


@dataclass
class Policy:
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    deadline: float = 60.0        # total seconds for one response, so a trickling server cannot hang us
    retries: int = 4              # extra attempts after the first
    backoff: float = 1.0          # first backoff sleep; doubled per attempt (tests inject a tiny value)
    max_sleep: float = 60.0       # cap of one sleep; a Retry-After beyond it fails instead of being ignored
    maxlag: int = 5
    max_bytes: int = 50_000_000


@dataclass
class Stats:
    requests: int = 0             # HTTP attempts sent
    retries: int = 0
    slept: float = 0.0
    events: list[str] = field(default_factory=list)


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class WikidataClient:
    _lock = threading.Lock()      # one request at a time, process-wide (also across sleeps)

    def __init__(self, api: str, *, sparql: str = "", contact: str = "", cache: Cache | None = None,
                 offline: bool = False, policy: Policy | None = None,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None) -> None:
        self.api_url = api
        self.sparql_url = sparql
        self.offline = offline
        self.contact = contact.strip() if offline else check_contact(contact)
        self.cache = cache
        self.policy = policy or Policy()
        self.sleep = sleep
        self.session = session or requests.Session()
        self.stats = Stats()

    @property
    def user_agent(self) -> str:
        return f"lod/{__version__} ({self.contact or 'offline'}) requests/{requests.__version__}"

    # --- public calls ------------------------------------------------------------------------
    def search(self, text: str, language: str, *, limit: int = 10) -> list[dict[str, Any]]:
        """wbsearchentities hits (real shape: id, label, description, match, aliases...)."""
        body = self.api({"action": "wbsearchentities", "search": text, "language": language,
                         "uselang": language, "type": "item", "limit": str(limit)}).body
        hits = body.get("search") if isinstance(body, dict) else None
        if not isinstance(hits, list):
            raise RequestFailed(self.api_url, "wbsearchentities answer has no 'search' list", 1)
        return [h for h in hits if isinstance(h, dict) and QID.match(str(h.get("id", "")))]

    def entities(self, ids: Iterable[str], *, refresh: bool = False
                 ) -> tuple[dict[str, Cached], dict[str, str]]:
        """Entity JSON per requested id (cache first, then batches of <= 50), and failures per id.

        A redirected id maps to its target's JSON with ``redirects: {from, to}``; a deleted one to
        ``{"id": ..., "missing": ""}`` — both are answers, not errors.
        """
        wanted = list(dict.fromkeys(i for i in ids))
        found: dict[str, Cached] = {}
        failed: dict[str, str] = {}
        todo = []
        for qid in wanted:
            if not QID.match(qid):
                failed[qid] = "not a Wikidata item id"
                continue
            hit = None if refresh or self.cache is None else self.cache.get("entity", self._ekey(qid))
            if hit is not None:
                found[qid] = hit
            elif self.offline:
                failed[qid] = "offline: not in cache"
            else:
                todo.append(qid)
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            try:
                got = self.api({"action": "wbgetentities", "ids": "|".join(batch), "props": ENTITY_PROPS,
                                "redirects": "yes"}, use_cache=False)
            except ReconcileError as exc:
                for qid in batch:
                    failed[qid] = str(exc)
                continue
            ents = got.body.get("entities") if isinstance(got.body, dict) else None
            for qid in batch:
                ent = ents.get(qid) if isinstance(ents, dict) else None
                if not isinstance(ent, dict):
                    failed[qid] = "wbgetentities answer lacks this id"
                    continue
                found[qid] = Cached(ent, got.retrieved_at, got.url)
                if self.cache is not None:
                    self.cache.put("entity", self._ekey(qid), ent, url=got.url, retrieved_at=got.retrieved_at)
        return found, failed

    def sparql(self, query: str) -> Cached:
        if not self.sparql_url:
            raise RequestFailed("(none)", "no SPARQL endpoint configured", 0)
        return self._fetch("sparql", self.sparql_url, {"query": query}, api=False,
                           accept="application/sparql-results+json")

    def api(self, params: dict[str, str], *, use_cache: bool = True, refresh: bool = False) -> Cached:
        full = {**params, "format": "json", "formatversion": "1"}
        return self._fetch("api", self.api_url, full, api=True, use_cache=use_cache, refresh=refresh)

    def get_json(self, url: str) -> Cached:
        return self._fetch("get", url, {}, api=False)

    def post_form(self, url: str, data: dict[str, str]) -> Cached:
        return self._fetch("post", url, data, api=False, method="POST")

    # --- machinery ---------------------------------------------------------------------------
    def _ekey(self, qid: str) -> dict[str, str]:
        return {"api": self.api_url, "id": qid}

    def _fetch(self, namespace: str, url: str, params: dict[str, str], *, api: bool,
               accept: str = "application/json", method: str = "GET", use_cache: bool = True,
               refresh: bool = False) -> Cached:
        key = {"url": url, **params}
        if use_cache and not refresh and self.cache is not None:
            hit = self.cache.get(namespace, key)
            if hit is not None:
                return hit
        if self.offline:
            raise NotCached(_describe(url, params))
        sent = dict(params)
        if api and method == "GET":
            sent["maxlag"] = str(self.policy.maxlag)
        body = self._request(method, url, sent, api=api, accept=accept)
        got = Cached(body, now(), url)
        if use_cache and self.cache is not None:
            self.cache.put(namespace, key, body, url=url, retrieved_at=got.retrieved_at)
        return got

    def _request(self, method: str, url: str, params: dict[str, str], *, api: bool, accept: str) -> Any:
        p = self.policy
        headers = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip", "Accept": accept}
        what = _describe(url, params)
        with self._lock:
            attempt = 0
            while True:
                attempt += 1
                wait: float | None = None
                self.stats.requests += 1
                try:
                    resp = self.session.request(
                        method, url, headers=headers, timeout=(p.connect_timeout, p.read_timeout), stream=True,
                        params=params if method == "GET" else None, data=params if method == "POST" else None)
                    try:
                        status = resp.status_code
                        content = _read(resp, time.monotonic() + p.deadline, p.max_bytes) if status < 400 else b""
                        retry_after = _retry_after(resp.headers.get("Retry-After"))
                    finally:
                        resp.close()
                except requests.Timeout:
                    reason = f"timed out (connect {p.connect_timeout}s, read {p.read_timeout}s)"
                except _Deadline:
                    reason = f"no complete answer within {p.deadline}s"
                except requests.RequestException as exc:
                    reason = f"request failed: {type(exc).__name__}: {exc}"
                else:
                    if status in (429, 503):
                        reason, wait = f"HTTP {status}", retry_after
                    elif status >= 500:
                        reason = f"HTTP {status}"
                    elif status >= 400:
                        raise RequestFailed(what, f"HTTP {status}", attempt)
                    else:
                        try:
                            body = json.loads(content)
                        except ValueError as exc:
                            reason = f"malformed JSON ({exc.msg} at byte {exc.pos})"
                        else:
                            err = body.get("error") if api and isinstance(body, dict) else None
                            if not err:
                                return body
                            code = err.get("code", "?") if isinstance(err, dict) else "?"
                            if code != "maxlag":
                                info = err.get("info", "") if isinstance(err, dict) else str(err)
                                raise RequestFailed(what, f"API error {code}: {info}", attempt)
                            lag = err.get("lag")
                            reason = f"maxlag (server lag {lag}s)"
                            wait = retry_after if retry_after is not None else _num(lag)
                if attempt > p.retries:
                    raise RequestFailed(what, f"{reason}; gave up after {attempt} attempts", attempt)
                if wait is not None and wait > p.max_sleep:
                    raise RequestFailed(what, f"{reason}; server asks to wait {wait:g}s, more than the "
                                              f"{p.max_sleep:g}s cap", attempt)
                delay = min(p.max_sleep, max(wait or 0.0, p.backoff * 2 ** (attempt - 1)))
                self.stats.retries += 1
                self.stats.slept += delay
                self.stats.events.append(f"{what}: {reason}; retry {attempt} after {delay:.2f}s")
                self.sleep(delay)


class _Deadline(Exception):
    pass


def _read(resp: requests.Response, deadline: float, limit: int) -> bytes:
    chunks, size = [], 0
    for chunk in resp.iter_content(8192):      # decoded (gzip) content; the deadline is checked per 8 KB
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise requests.ConnectionError(f"answer larger than {limit} bytes")
        if time.monotonic() > deadline:
            raise _Deadline()
    return b"".join(chunks)


def _retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date."""
    if not value:
        return None
    v = value.strip()
    if v.isdigit():
        return float(v)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _describe(url: str, params: dict[str, str]) -> str:
    action = params.get("action")
    if action == "wbsearchentities":
        return f"search {params.get('search')!r} [{params.get('language')}]"
    if action == "wbgetentities":
        ids = params.get("ids", "").split("|")
        return f"wbgetentities {','.join(ids[:3])}{'…' if len(ids) > 3 else ''} ({len(ids)} ids)"
    if "query" in params:
        return f"SPARQL query at {url}"
    if "queries" in params:
        return f"reconciliation queries at {url}"
    return url
