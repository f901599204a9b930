"""Properties (hypothesis) of the three things every request and every import goes through.

1. Content negotiation, over the real app: any Accept header gets a served type (the one the pure
   negotiation function picks) or 406 -- never an error, never a type we do not serve.
2. URI minting: the same key gives the same IRI (any Minter, any time); distinct keys give distinct
   IRIs, graphs and data documents; every minted IRI is a valid IRI that maps back to its thing.
   Authority ids: distinct unknown names get distinct ids, a known name its existing id.
3. Importers: page text, CSV cells and files, record data and raw bytes either give a record or raise a
   RecordError that says where (file, and field or line) -- never any other exception.
Related: tests/test_negotiation.py (the parser alone), tests/hostile/ (the hand-written corpus).
"""

from __future__ import annotations

import csv
import io
import string
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import Built, make_app
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lod.authority import Authority
from lod.records import Record, RecordError
from lod.sources import csv_export, pages
from lod.sources.textfile import decode
from lod.uris import Minter
from lod.web.negotiation import negotiate
from lod.web.resources import ALIASES, ALL_OFFERS, OFFERS

ROOT = Path(__file__).resolve().parent.parent
SEED_B = ROOT / "data" / "sources" / "pages" / \
    "diary-soviet-ambassador-pf-yudin-memorandum-conversation-liu-shaoqi-30-october-1956.txt"
CSV_SAMPLE = ROOT / "data" / "sources" / "csv" / "wilson_archive_sample.csv"
SLOW = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])

# ----------------------------------------------------------------------------------- 1. negotiation
TYPES = ["text", "application", "image", "*", "x-foo", "TEXT", ""]
SUBTYPES = ["turtle", "html", "ld+json", "rdf+xml", "n-triples", "*", "json", "plain", "xhtml+xml", "x-turtle", ""]
PARAMS = ["q=0", "q=0.5", "q=1", "q=1.000", "q=0.001", "q=abc", "q=2", "q=-1", "q=0.12345", "charset=utf-8",
          "charset=latin-1", "profile=x", "level=1", "q", "=", ""]
HEADER_CHARS = st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f")


@st.composite
def accept_headers(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        ranges = []
        for _ in range(draw(st.integers(0, 8))):
            r = draw(st.sampled_from(TYPES)) + draw(st.sampled_from(["/", "", "//"])) + draw(st.sampled_from(SUBTYPES))
            for _ in range(draw(st.integers(0, 2))):
                r += draw(st.sampled_from([";", " ; ", ";;"])) + draw(st.sampled_from(PARAMS))
            ranges.append(r)
        return draw(st.sampled_from([",", ", ", " ,", ",,"])).join(ranges)
    return draw(st.text(HEADER_CHARS, max_size=80))


@pytest.fixture(scope="module")
def client(built: Built):  # noqa: ANN201 - the shared build, one app for the module
    return make_app(built).test_client()


@SLOW
@given(accept=accept_headers())
def test_negotiation_picks_a_served_type_or_406(client, accept: str) -> None:  # noqa: ANN001
    expected = negotiate(accept, ALL_OFFERS)
    r = client.get("/data/document/116814", headers={"Accept": accept})
    assert r.status_code in (200, 406), (accept, r.status_code)
    assert r.headers["Vary"] == "Accept"
    if expected is None:
        assert r.status_code == 406 and "Available representations" in r.get_data(as_text=True)
    else:
        assert r.status_code == 200
        assert r.mimetype in OFFERS and r.mimetype == ALIASES.get(expected, expected)
    t = client.get("/id/person/liu-shaoqi", headers={"Accept": accept})
    assert t.status_code == (406 if expected is None else 303), (accept, t.status_code)
    if expected is not None:
        ext = {"text/turtle": ".ttl", "application/ld+json": ".jsonld", "application/rdf+xml": ".rdf",
               "application/n-triples": ".nt", "text/html": ".html"}[ALIASES.get(expected, expected)]
        assert t.headers["Location"].endswith("/data/person/liu-shaoqi" + ext)


# ----------------------------------------------------------------------------------- 2. minting
KEYS = st.text(min_size=1, max_size=40) | st.from_regex(r"[a-z0-9][a-z0-9%./()',-]{0,20}", fullmatch=True)
BASES = st.sampled_from(["http://localhost:8080/", "https://archive.example.org/lod/", "http://127.0.0.1:9/x/"])


@settings(max_examples=400, deadline=None)
@given(base=BASES, a=KEYS, b=KEYS)
def test_minting_is_stable_and_collision_free(base: str, a: str, b: str) -> None:
    m1, m2 = Minter(base), Minter(base)
    for key in (a, b):
        iri = m1.document(key)
        assert iri == m2.document(key) == Minter(base).document(key)          # stable
        assert iri.startswith(base + "id/document/")
        ox.NamedNode(iri)                                                    # a valid IRI
        assert not any(c in iri for c in ' <>"{}|\\^`\n\t')
        doc = m1.data_document(iri)
        assert m1.thing_of_document(doc) == iri                              # document <-> thing
    if a != b:
        assert m1.document(a) != m1.document(b)                              # collision-free
        assert m1.record_graph(a) != m1.record_graph(b)
        assert m1.data_document(m1.document(a), "ttl") != m1.data_document(m1.document(b), "ttl")


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.text(string.ascii_letters + " .,'-", min_size=2, max_size=25)
                      .filter(lambda s: sum(c.isalpha() for c in s) >= 2), min_size=1, max_size=12))
def test_authority_ids_are_stable_and_unique(names: list[str]) -> None:
    auth = Authority()
    first = {n: auth.add_unknown(n, "person") for n in names}
    again = {n: auth.add_unknown(n, "person") for n in names}
    assert {n: e.id for n, e in first.items()} == {n: e.id for n, e in again.items()}   # same name, same id
    ids = [e.id for e in auth.entities.values()]
    assert len(ids) == len(set(ids))                                                   # never shared
    for e in auth.entities.values():
        ox.NamedNode(Minter("http://localhost:8080/").entity("person", e.id))


# ----------------------------------------------------------------------------------- 3. importers
def _located(err: RecordError, file: str) -> None:
    assert isinstance(err, RecordError)
    assert err.file == file, err.located()
    assert err.field or err.line, err.located()
    assert err.located().startswith(file)


SEED_LINES = SEED_B.read_text(encoding="utf-8").split("\n")


@st.composite
def page_texts(draw: st.DrawFn) -> str:
    """The real page B, damaged: slices cut, lines swapped, text inserted, characters replaced."""
    lines = list(SEED_LINES)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "swap", "insert", "replace", "truncate"]))
        i = draw(st.integers(0, len(lines) - 1))
        if op == "cut":
            del lines[i:i + draw(st.integers(1, 10))]
        elif op == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, draw(st.text(max_size=60)))
        elif op == "replace" and lines[i]:
            k = draw(st.integers(0, len(lines[i]) - 1))
            lines[i] = lines[i][:k] + draw(st.characters()) + lines[i][k + 1:]
        elif op == "truncate":
            lines = lines[:i]
        if not lines:
            break
    return "\n".join(lines)


@SLOW
@given(text=page_texts() | st.text(max_size=300))
def test_page_text_gives_a_record_or_a_located_error(text: str) -> None:
    try:
        rec = pages.parse_page(text, file="fuzz.txt", stem="fuzz-page")
    except RecordError as err:
        _located(err, "fuzz.txt")
        return
    assert isinstance(rec, Record) and rec.title and rec.key


_ROWS = list(csv.reader(io.StringIO(CSV_SAMPLE.read_text(encoding="utf-8"), newline="")))
HEADER, ROW = _ROWS[0], _ROWS[2]


@SLOW
@given(column=st.sampled_from(HEADER), value=st.text(max_size=80) | st.sampled_from(
    ["[", "[1]", '["a", 2]', "{}", "null", "[" * 5000, '"x"', "31 February 1954", "=1+1", "\n", "\x00"]))
def test_csv_cell_gives_a_record_or_a_located_error(column: str, value: str) -> None:
    row = list(ROW)
    row[HEADER.index(column)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([HEADER, row])
    result = csv_export.parse_csv(buf.getvalue(), file="fuzz.csv")
    assert len(result.rows) + len(result.errors) >= 1 or not value.strip("\x00 \n")
    for err in result.errors:
        _located(err, "fuzz.csv")
    for imported in result.rows:
        assert imported.record.key


@SLOW
@given(text=st.text(max_size=400))
def test_any_csv_text_gives_rows_or_located_errors(text: str) -> None:
    result = csv_export.parse_csv(",".join(HEADER) + "\n" + text, file="fuzz.csv")
    for err in result.errors:
        assert err.file == "fuzz.csv" and err.line, err.located()


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                       lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                       max_size=4), max_leaves=12)
FIELDS = ["key", "title", "date", "authors", "people", "conversation", "citation", "withdrawn", "summary",
          "participants", "fond", "body"]


@SLOW
@given(data=st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), JSONISH, max_size=6)
       | JSONISH)
def test_record_data_gives_a_record_or_a_located_error(data: object) -> None:
    try:
        rec = Record.from_dict(data, file="fuzz.yaml")
    except RecordError as err:
        assert err.file == "fuzz.yaml" and err.located().startswith("fuzz.yaml")
        assert err.field or not isinstance(data, dict) or "key" not in data or err.record
        return
    assert isinstance(rec, Record)
    for err in rec.check():
        assert err.field


@SLOW
@given(data=st.binary(max_size=300))
def test_any_bytes_decode_or_give_a_located_error(data: bytes) -> None:
    try:
        text = decode(data, file="fuzz.bin")
    except RecordError as err:
        assert err.file == "fuzz.bin"
        return
    assume(text)
    assert "\r" not in text
