"""lod.web.cache.LRU: bounded by entries and bytes; a value is kept on its second put unless costly."""

from __future__ import annotations

from lod.web.cache import LRU


def test_a_value_is_kept_on_its_second_put() -> None:
    c = LRU(max_entries=10, max_bytes=1000)
    assert c.put("a", b"1", 1) is False and c.get("a") is None and len(c) == 0 and c.size == 0
    assert c.put("a", b"1", 1) is True and c.get("a") == b"1" and c.size == 1
    assert c.put("a", b"22", 2) is True and c.get("a") == b"22" and c.size == 2     # replaced at once


def test_a_costly_value_is_kept_at_once() -> None:
    c = LRU(max_entries=10, max_bytes=1000)
    assert c.put("q", b"answer", 6, costly=True) is True and c.get("q") == b"answer"


def test_a_crawl_of_one_off_keys_keeps_nothing_and_leaves_the_hot_set() -> None:
    c = LRU(max_entries=10, max_bytes=1000)
    for _ in range(2):
        for k in ("hot1", "hot2"):
            c.put(k, k, 10)
    for i in range(10_000):
        c.put(f"doc{i}", "x" * 10, 10)
    assert sorted(c._data) == ["hot1", "hot2"] and c.size == 20
    assert len(c._seen) <= 2 * c.max_entries        # the doorkeeper is bounded too


def test_bounds_by_entries_and_bytes_evict_the_least_recent() -> None:
    c = LRU(max_entries=3, max_bytes=100)
    for k in "abcd":
        c.put(k, k, 10, costly=True)
    assert c.get("a") is None and [c.get(k) for k in "bcd"] == ["b", "c", "d"]
    c.get("b")
    c.put("e", "e", 10, costly=True)
    assert c.get("c") is None and c.get("b") == "b"
    assert c.put("big", "x", 26, costly=True) is False and c.get("big") is None     # over a quarter: never
    c.put("f", "f", 25, costly=True)
    c.put("g", "g", 25, costly=True)
    c.put("h", "h", 25, costly=True)
    c.put("i", "i", 25, costly=True)
    assert c.size <= 100 and c.get("b") is None
    c.clear()
    assert len(c) == 0 and c.size == 0 and not c._seen
