"""The Wikidata client against a real loopback server with Wikidata's response shapes and faults.

Sleeps are recorded, not slept (the client takes an injected ``sleep``), so backoff is checked
exactly and the tests stay fast. No test touches the internet.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from wikidata_fake import FakeServer, FakeWikidata

from lod.reconcile.cache import Cache
from lod.reconcile.client import (
    ContactRequired,
    NotCached,
    Policy,
    RequestFailed,
    WikidataClient,
    _retry_after,
    check_contact,
)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def server() -> Iterator[FakeWikidata]:
    srv = FakeServer()
    yield srv.fake
    srv.close()


def make(fake: FakeWikidata, tmp_path, *, offline: bool = False, **policy: float) -> WikidataClient:
    sleeps = Sleeps()
    pol = Policy(**{"backoff": 1.0, "read_timeout": 5.0, **policy})
    c = WikidataClient(fake.api, sparql=fake.sparql, contact="ops@example.org", cache=Cache(tmp_path / "cache"),
                       offline=offline, policy=pol, sleep=sleeps)
    c.sleeps = sleeps  # type: ignore[attr-defined]
    return c


def test_user_agent_maxlag_gzip_on_every_request(server, tmp_path):
    c = make(server, tmp_path)
    hits = c.search("Liu Shaoqi", "en")
    assert [h["id"] for h in hits] == ["Q16988", "Q990000001"]
    c.entities(["Q16988"])
    assert server.count == 2
    for seen in server.requests:
        assert re.fullmatch(r"lod/\S+ \(ops@example\.org\) requests/\S+", seen.headers["User-Agent"])
        assert seen.params["maxlag"] == "5"
        assert "gzip" in seen.headers["Accept-Encoding"]
    assert server.gzipped == 2          # answers came gzipped and were decoded


def test_search_uses_language_and_uselang_for_each_script(server, tmp_path):
    c = make(server, tmp_path)
    assert [h["id"] for h in c.search("刘少奇", "zh")][0] == "Q16988"
    assert [h["id"] for h in c.search("Лю Шаоци", "ru")] == ["Q16988"]
    assert c.search("Rao Shushi", "en") == []                     # a miss is an answer
    params = [s.params for s in server.requests]
    assert [(p["language"], p["uselang"]) for p in params] == [("zh", "zh"), ("ru", "ru"), ("en", "en")]


def test_refuses_to_go_online_without_a_usable_contact(server, tmp_path):
    for bad in ("", "   ", "bob", "http://", "a b@c"):
        with pytest.raises(ContactRequired):
            WikidataClient(server.api, contact=bad)
    assert check_contact("https://example.org/contact") == "https://example.org/contact"
    WikidataClient(server.api, contact="", offline=True)          # offline needs no contact
    assert server.count == 0


def test_maxlag_arrives_as_200_and_is_retried_after_retry_after(server, tmp_path):
    c = make(server, tmp_path)
    server.plan("maxlag", times=2)
    hits = c.search("Zhou Enlai", "en")
    assert hits[0]["id"] == "Q17411"
    assert server.count == 3
    assert c.sleeps == [1.0, 2.0]     # Retry-After 1, then the doubled backoff (1 * 2) is longer
    assert "maxlag" in c.stats.events[0]
    c.search("Zhou Enlai", "en")      # the good answer was cached, the maxlag errors were not
    assert server.count == 3


def test_maxlag_without_retry_after_waits_for_the_reported_lag(server, tmp_path):
    server.retry_after = ""
    c = make(server, tmp_path, backoff=0.01)
    server.plan("maxlag")
    c.search("Zhou Enlai", "en")
    assert c.sleeps == [6.3]


def test_429_honours_retry_after_with_exponential_backoff(server, tmp_path):
    server.retry_after = "3"
    c = make(server, tmp_path)
    server.plan("429", times=3)
    assert c.search("Mao Zedong", "en")[0]["id"] == "Q5816"
    assert c.sleeps == [3.0, 3.0, 4.0]        # never less than Retry-After; backoff 1, 2, 4 takes over
    assert server.count == 4


def test_503_is_retried(server, tmp_path):
    c = make(server, tmp_path)
    server.plan("503")
    assert c.search("Beijing", "en")[0]["id"] == "Q956"
    assert c.sleeps == [1.0] and server.count == 2


def test_retry_after_beyond_the_cap_fails_rather_than_hammering(server, tmp_path):
    server.retry_after = "3600"
    c = make(server, tmp_path, max_sleep=60)
    server.plan("429")
    with pytest.raises(RequestFailed, match="asks to wait 3600s"):
        c.search("Beijing", "en")
    assert c.sleeps == [] and server.count == 1


def test_500_is_retried_then_reported_and_never_cached(server, tmp_path):
    c = make(server, tmp_path, retries=2, backoff=0.01)
    server.plan("500", times=3)
    with pytest.raises(RequestFailed, match="HTTP 500; gave up after 3 attempts") as info:
        c.search("Shanghai", "en")
    assert "search 'Shanghai' [en]" in str(info.value)
    assert server.count == 3 and c.sleeps == [0.01, 0.02]
    assert c.search("Shanghai", "en")[0]["id"] == "Q8686"   # error not cached: asked again
    assert server.count == 4


def test_a_hang_past_the_timeout_is_reported(server, tmp_path):
    c = make(server, tmp_path, read_timeout=0.3, retries=1, backoff=0.01)
    server.plan("hang", times=2)
    t0 = time.monotonic()
    with pytest.raises(RequestFailed, match="timed out"):
        c.search("Moscow", "en")
    assert time.monotonic() - t0 < 2.5
    assert server.count == 2
    assert c.search("Moscow", "en")[0]["id"] == "Q649"       # nothing was cached by the hang


def test_malformed_json_is_retried_and_never_cached(server, tmp_path):
    c = make(server, tmp_path, retries=1, backoff=0.01)
    server.plan("malformed")
    assert c.search("Karl Marx", "en")[0]["id"] == "Q9061"
    server.plan("malformed", times=2)
    with pytest.raises(RequestFailed, match="malformed JSON"):
        c.api({"action": "wbgetentities", "ids": "Q9061"})
    offline = make(server, tmp_path, offline=True)
    with pytest.raises(NotCached):
        offline.api({"action": "wbgetentities", "ids": "Q9061"})


def test_other_api_errors_are_not_retried_or_cached(server, tmp_path):
    c = make(server, tmp_path)
    server.plan("error")
    with pytest.raises(RequestFailed, match="internal_api_error_DBQueryError"):
        c.search("Lenin", "en")
    assert server.count == 1 and c.sleeps == []
    c.search("Lenin", "en")
    assert server.count == 2


def test_wbgetentities_is_batched_at_50_and_cached_per_item(server, tmp_path):
    c = make(server, tmp_path)
    ids = [f"Q9900000{i:02d}" for i in range(21, 76)] + ["Q16988", "Q17411", "Q956", "Q649", "Q855"]
    found, failed = c.entities(ids)
    assert failed == {} and len(found) == 60
    batches = [s.params["ids"].split("|") for s in server.requests]
    assert [len(b) for b in batches] == [50, 10]
    assert all(s.params["props"] == "claims|labels|descriptions|aliases|sitelinks" for s in server.requests)
    found2, _ = c.entities(ids[10:20] + ["Q16988"])          # any subset: from the cache, no request
    assert server.count == 2 and len(found2) == 11


def test_redirected_and_missing_items_are_answers(server, tmp_path):
    c = make(server, tmp_path)
    found, failed = c.entities(["Q990000900", "Q990000999", "Qnot"])
    assert found["Q990000900"].body["id"] == "Q16988"
    assert found["Q990000900"].body["redirects"] == {"from": "Q990000900", "to": "Q16988"}
    assert found["Q990000999"].body == {"id": "Q990000999", "missing": ""}
    assert failed == {"Qnot": "not a Wikidata item id"}
    assert server.requests[0].params["ids"] == "Q990000900|Q990000999"


def test_offline_uses_the_cache_alone(server, tmp_path):
    online = make(server, tmp_path)
    online.search("Liu Shaoqi", "en")
    online.entities(["Q16988"])
    before = server.count
    off = make(server, tmp_path, offline=True)
    assert off.search("Liu Shaoqi", "en")[0]["id"] == "Q16988"
    found, failed = off.entities(["Q16988", "Q17411"])
    assert list(found) == ["Q16988"] and failed == {"Q17411": "offline: not in cache"}
    with pytest.raises(NotCached, match="search 'Zhou Enlai' \\[en\\]"):
        off.search("Zhou Enlai", "en")
    assert server.count == before


def test_one_request_at_a_time_even_from_many_threads(server, tmp_path):
    clients = [make(server, tmp_path / str(i)) for i in range(2)]
    names = ["Liu Shaoqi", "Zhou Enlai", "Mao Zedong", "Beijing", "Shanghai", "Moscow"]
    server.plan("slow", times=len(names))
    threads = [threading.Thread(target=clients[i % 2].search, args=(n, "en")) for i, n in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert server.count == len(names)
    assert server.max_active == 1


def test_a_damaged_cache_entry_is_a_miss_not_an_answer(server, tmp_path):
    c = make(server, tmp_path)
    c.search("Beijing", "en")
    for path in (tmp_path / "cache").rglob("*.json"):
        path.write_text('{"body": ', encoding="utf-8")
    c2 = make(server, tmp_path)
    assert c2.search("Beijing", "en")[0]["id"] == "Q956"
    assert server.count == 2 and c2.cache.corrupt


def test_sparql_class_check_goes_to_the_configured_endpoint(server, tmp_path):
    from lod.reconcile.search import class_kinds

    c = make(server, tmp_path)
    kinds, failures, missing = class_kinds(c, {"Q990001010", "Q990001001", "Q5", "Q515"})
    assert kinds == {"Q990001001": set(), "Q990001010": {"place"}}   # built-in classes are not asked
    assert failures == missing == []
    assert [s.path for s in server.requests] == ["/sparql"]
    assert server.requests[0].headers["Accept"] == "application/sparql-results+json"


def test_retry_after_http_date():
    later = datetime.now(UTC) + timedelta(seconds=30)
    assert 25 <= (_retry_after(format_datetime(later, usegmt=True)) or 0) <= 31
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after("soon") is None and _retry_after(None) is None and _retry_after("7") == 7.0


def test_a_trickling_answer_is_cut_at_the_total_deadline(server, tmp_path):
    c = make(server, tmp_path, read_timeout=1.0, deadline=0.5, retries=0)
    server.plan("trickle")
    t0 = time.monotonic()
    with pytest.raises(RequestFailed, match="no complete answer within 0.5s"):
        c.api({"action": "wbgetentities", "ids": "Q1"})
    assert time.monotonic() - t0 < 1.8        # the whole body would take 2 s; each read is quick enough
