"""lod.web.negotiation on its own: q-values, wildcards, ties, defaults, real headers, malformed input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lod.web.negotiation import MAX_RANGES, negotiate, parse_accept, quality

OFFERS = ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples", "text/html")

# Real headers, captured from the real clients against a loopback server (see tests/test_real_clients.py).
CHROMIUM = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/jxl,image/avif,image/webp,"
            "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CURL = "*/*"
RDFLIB_DEFAULT = ("application/rdf+xml, text/n3, text/turtle, application/n-triples, application/ld+json, "
                  "application/n-quads, application/trix, application/trig")
RDFLIB_TURTLE = "text/turtle, application/x-turtle, */*;q=0.1"
RDFLIB_JSONLD = "application/ld+json, application/json;q=0.9, */*;q=0.1"
RAPPER_GUESS = (
    "application/rdf+xml, text/rdf;q=0.6, application/n-triples, text/plain;q=0.1, text/turtle, "
    "application/x-turtle, application/turtle, text/n3;q=0.3, text/rdf+n3;q=0.3, application/rdf+n3;q=0.3, "
    "application/x-trig, application/rss;q=0.8, application/rss+xml;q=0.8, text/rss;q=0.8, application/xml;q=0.3, "
    "text/xml;q=0.3, application/atom+xml;q=0.3, text/html;q=0.2, application/xhtml+xml;q=0.4, text/html;q=0.6, "
    "application/xhtml+xml;q=0.8, application/json;q=0.1, text/json;q=0.1, text/x-nquads, */*;q=0.1")
RAPPER_TURTLE = ("text/turtle, application/x-turtle, application/turtle, text/n3;q=0.3, text/rdf+n3;q=0.3, "
                 "application/rdf+n3;q=0.3, */*;q=0.1")


def test_q_values_beat_order() -> None:
    assert negotiate("text/html;q=0.5, application/rdf+xml;q=0.9", OFFERS) == "application/rdf+xml"
    assert negotiate("application/n-triples;q=0.2, text/turtle;q=0.1", OFFERS) == "application/n-triples"


def test_wildcards() -> None:
    assert negotiate("*/*", OFFERS) == "text/turtle"
    assert negotiate("text/*", OFFERS) == "text/turtle"
    assert negotiate("text/*;q=0.5, text/html", OFFERS) == "text/html"
    assert negotiate("application/*", OFFERS) == "application/ld+json"
    # the most specific range wins even when it has a lower q
    assert negotiate("text/*;q=0.9, text/turtle;q=0.1", OFFERS) == "text/html"


def test_ties_go_to_server_preference() -> None:
    assert negotiate("text/html, text/turtle", OFFERS) == "text/turtle"
    assert negotiate("application/n-triples, application/rdf+xml", OFFERS) == "application/rdf+xml"


def test_no_accept_is_the_documented_default() -> None:
    assert negotiate(None, OFFERS) == "text/turtle"
    assert negotiate("", OFFERS) == "text/turtle"
    assert negotiate("   ", OFFERS) == "text/turtle"


def test_q_zero_excludes() -> None:
    assert negotiate("text/turtle;q=0, */*", OFFERS) == "application/ld+json"
    assert negotiate("*/*;q=0", OFFERS) is None


def test_only_unsupported_is_none() -> None:
    assert negotiate("image/png", OFFERS) is None
    assert negotiate("image/*, application/pdf", OFFERS) is None


def test_real_client_headers() -> None:
    assert negotiate(CHROMIUM, OFFERS) == "text/html"
    assert negotiate(FIREFOX, OFFERS) == "text/html"
    assert negotiate(CURL, OFFERS) == "text/turtle"
    assert negotiate(RDFLIB_DEFAULT, OFFERS) == "text/turtle"
    assert negotiate(RDFLIB_TURTLE, OFFERS) == "text/turtle"
    assert negotiate(RDFLIB_JSONLD, OFFERS) == "application/ld+json"
    assert negotiate(RAPPER_GUESS, OFFERS) == "text/turtle"
    assert negotiate(RAPPER_TURTLE, OFFERS) == "text/turtle"


def test_duplicates_take_the_highest_q() -> None:
    ranges = parse_accept("text/html;q=0.2, text/html;q=0.6")
    assert quality(ranges, "text/html") == 0.6


def test_params_and_case() -> None:
    assert negotiate('TEXT/Turtle; charset="utf-8"', OFFERS) == "text/turtle"
    assert quality(parse_accept("text/html;level=1"), "text/html") == 0.0   # offer lacks the param
    assert quality(parse_accept("text/html;level=1, text/html;q=0.3"), "text/html") == 0.3


def test_malformed_ranges_are_ignored() -> None:
    for header in ("text/turtle;q=2", "text/turtle;q=abc", "text/turtle;q=", "turtle", "/", "*/turtle",
                   "text/tur tle", "text/turtle;=x", ";;;", ",,,", "text/turtle;q=0.0001"):
        assert negotiate(header, OFFERS) is None, header
    assert negotiate("garbage, text/html;q=0.5", OFFERS) == "text/html"
    assert negotiate("text/turtle;q=1.0", OFFERS) == "text/turtle"


def test_huge_header_is_bounded() -> None:
    header = ", ".join(f"application/x-{i}" for i in range(10000)) + ", text/html"
    assert len(parse_accept(header)) <= MAX_RANGES
    assert negotiate(header, OFFERS) is None     # text/html lies beyond the cut: not read
    assert negotiate("text/html," + "a" * 100000, OFFERS) == "text/html"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes(header: str) -> None:
    result = negotiate(header, OFFERS)
    assert result is None or result in OFFERS


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(OFFERS + ("*/*", "text/*", "image/png")),
                          st.integers(min_value=0, max_value=1000)), min_size=1, max_size=8))
def test_winner_has_the_highest_quality(items: list[tuple[str, int]]) -> None:
    header = ", ".join(f"{t};q={q / 1000:.3f}" for t, q in items)
    ranges = parse_accept(header)
    result = negotiate(header, OFFERS)
    best = max(quality(ranges, o) for o in OFFERS)
    if best == 0:
        assert result is None
    else:
        assert result is not None and quality(ranges, result) == best
        # and it is the first offer reaching that quality: server preference on ties
        assert result == next(o for o in OFFERS if quality(ranges, o) == best)
