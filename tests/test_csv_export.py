"""The digital archive's CSV export: the 11 real rows, and broken exports reported row by row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from lod.authority import Authority
from lod.commands.importing import run_import
from lod.names import parse_name
from lod.sources.csv_export import COLUMNS, parse_csv, read_csv

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sources" / "csv" / "wilson_archive_sample.csv"
KEYS = ["300653", "300641", "300640", "300639", "300638", "300242", "300241", "300240", "300239",
        "300238", "300237"]


@pytest.fixture(scope="module")
def result():
    return read_csv(SAMPLE)


@pytest.fixture(scope="module")
def by_key(result):
    return {row.record.key: row.record for row in result.rows}


def rows() -> tuple[list[str], list[list[str]]]:
    with open(SAMPLE, encoding="utf-8", newline="") as fh:
        data = list(csv.reader(fh))
    return data[0], data[1:]


def to_csv(header: list[str], body: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *body])
    return out.getvalue()


def test_eleven_records_every_column_known(result):
    header, _ = rows()
    assert set(header) == set(COLUMNS)
    assert [r.record.key for r in result.rows] == KEYS
    assert result.errors == [] and result.warnings == []


def test_partial_date_keeps_its_precision(by_key):
    assert by_key["300638"].date == "1967-11"            # "November 1967", not the 1st
    assert by_key["300641"].date == "1967-11-24"
    assert by_key["300653"].date == "1949-04-01"
    assert by_key["300653"].upload_date == "2023-10-10"


def test_fields_of_a_full_row(by_key):
    r = by_key["300641"]
    assert r.title.startswith("Economic Cooperation Division [Ministry of Foreign Affairs, Japan]")
    assert r.source_url.endswith("/document/economic-cooperation-division-ministry-foreign-affairs-japan-main-points-meeting-between")
    assert r.slug == "economic-cooperation-division-ministry-foreign-affairs-japan-main-points-meeting-between"
    assert r.record_id == "300641" and r.classification == "Secret"
    assert r.authors == ["Japan. Foreign Ministry"]
    assert r.people == ["Satō, Eisaku", "Chiang, Ching-kuo (Jiang Jingguo)"]
    assert r.places == ["Japan", "Taiwan"]
    assert r.subjects[0] == "Japan--Foreign relations--Taiwan"
    assert r.original_language == ["Japanese"]
    assert r.funders == ["Chun & Jane Chiu Family Foundation"]
    assert r.credits == "This document was made possible with support from Chun & Jane Chiu Family Foundation"
    assert r.contributed_by == ["Robert Hoppens"] and r.translated_by == ["Stephen Mercado"]
    assert r.citation.archive == "Diplomatic Archives of the Ministry of Foreign Affairs of Japan"
    assert r.citation.file == "File A’0392 (Microfilm)"
    assert r.body.startswith("Secret\nIndefinite Duration\nCopy 19 of 50")
    assert r.summary.startswith("The Japanese Foreign Ministry provides an update")
    assert r.rights.startswith("The History and Public Policy Program welcomes reuse")


def test_source_line_roles_and_archive_parts(by_key):
    r = by_key["300242"]
    assert r.contributed_by == r.transcribed_by == r.translated_by == ["Stephan Kieninger"]
    c = r.citation
    assert (c.archive, c.archive_abbrev, c.file, c.pages) == ("German Federal Archives", "BArch", "B 136/59748",
                                                              "403-410")
    n = by_key["300653"].citation
    assert (n.archive_abbrev, n.file) == ("NMML", "File No. JNSG, vol. 21-1")


def test_empty_cells_give_empty_fields(by_key):
    r = by_key["300242"]
    assert r.authors == [] and r.credits == "" and r.funders == [] and r.classification == ""
    assert "authors" not in r.to_dict()
    assert by_key["300240"].people == []


def test_conversation_from_the_title(by_key):
    conv = by_key["300242"].conversation
    assert (conv.date, conv.place) == ("1997-10-20", "Chequers")
    assert conv.participants == ["Kohl, Helmut", 'Blair, Anthony Charles Lynton ("Tony")']
    assert by_key["300242"].doc_type == "record-of-conversation"
    assert by_key["300653"].doc_type == "letter" and by_key["300639"].doc_type == "petition"


def test_scrape_columns_go_to_provenance(result):
    prov = result.rows[-1].provenance
    assert prov == {"source": SAMPLE.name, "line": 387, "listing_page": "2", "position": "1",
                    "scraped_at": "2025-10-07T12:41:46.203264"}


def test_inverted_names():
    assert parse_name("Liu, Shaoqi").label == "Liu Shaoqi"
    chiang = parse_name("Chiang, Ching-kuo (Jiang Jingguo)")
    assert chiang.label == "Chiang Ching-kuo" and "Jiang Jingguo" in chiang.variants
    blair = parse_name('Blair, Anthony Charles Lynton ("Tony")')
    assert blair.label == "Tony Blair" and "Anthony Charles Lynton Blair" in blair.variants
    assert parse_name("Nehru, Jawaharlal").label == "Jawaharlal Nehru"
    assert parse_name("Kawase, Ikkan", context="Kawase Ikkan insists that").label == "Kawase Ikkan"
    assert parse_name("Satō, Eisaku").label == "Satō Eisaku"
    assert parse_name("Japan. Foreign Ministry", "organization").label == "Japan. Foreign Ministry"


def test_inverted_names_resolve_against_the_authority(by_key):
    auth = Authority.load(ROOT / "data" / "authority.yaml")
    assert [auth.resolve(n).id for n in by_key["300640"].people] == \
        ["mao-zedong", "lin-biao", "liu-shaoqi", "deng-xiaoping"]
    chiang = auth.resolve("Chiang, Ching-kuo (Jiang Jingguo)")
    assert chiang.label == "Chiang Ching-kuo" and "Jiang Jingguo" in chiang.variants
    assert auth.resolve("Jiang Jingguo") is chiang and chiang.wikidata == ""


# --- broken exports --------------------------------------------------------------------------
def test_missing_required_column_is_an_error_at_the_header():
    header, body = rows()
    i = header.index("title")
    text = to_csv(header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in body])
    res = parse_csv(text, file="no-title.csv")
    assert res.rows == []
    (err,) = res.errors
    assert (err.file, err.line, err.field) == ("no-title.csv", 1, "title")
    assert "missing required column" in err.located() and "no-title.csv:1" in err.located()


def test_missing_optional_and_extra_columns_warn_and_import():
    header, body = rows()
    i = header.index("summary")
    text = to_csv([*header[:i], *header[i + 1:], "curator_note"], [[*r[:i], *r[i + 1:], "x"] for r in body])
    res = parse_csv(text, file="odd.csv")
    assert res.errors == [] and len(res.rows) == 11
    assert all(r.record.summary == "" for r in res.rows)
    assert any("unknown column 'curator_note'" in w and "odd.csv:1" in w for w in res.warnings)
    assert any("column 'summary' missing" in w for w in res.warnings)


@pytest.mark.parametrize("column,value,fragment", [
    ("authors", '["Nehru, Jawaharlal"', "invalid JSON array"),
    ("associated_places", '{"India": 1}', "expected a JSON array"),
    ("language", '[1, 2]', "expected a JSON array"),
    ("original_publication_date", "31 February 1954", "impossible date"),
    ("original_publication_date", "sometime in spring", "unrecognised date"),
    ("original_upload_date", "2023-13-01", "impossible month"),
    ("title", "   ", "missing title"),
    ("document_url", "javascript:alert(1)", "not an http(s) URL"),
    ("record_id", "../etc", "not a plain identifier"),
])
def test_bad_cell_is_located_and_the_other_rows_import(column, value, fragment):
    header, body = rows()
    body[3][header.index(column)] = value
    res = parse_csv(to_csv(header, body), file="bad.csv")
    (err,) = res.errors
    bad_key = body[3][header.index("record_id")]
    assert err.file == "bad.csv" and err.field == column and fragment in err.message
    assert err.record == (bad_key if column != "record_id" else "../etc")
    assert err.line and f"bad.csv:{err.line}" in err.located() and f"field {column}" in err.located()
    assert len(res.rows) == 10 and bad_key not in {r.record.key for r in res.rows}


def test_row_with_wrong_cell_count_and_duplicate_ids():
    header, body = rows()
    body[1] = body[1][:5]
    body[5][header.index("record_id")] = body[4][header.index("record_id")]
    res = parse_csv(to_csv(header, body), file="x.csv")
    messages = sorted(e.located() for e in res.errors)
    assert len(messages) == 2
    assert any("row has 5 cells" in m and "record economic-cooperation-division" in m for m in messages)
    assert any("duplicate record ID" in m and "record 300638" in m and "field record_id" in m for m in messages)
    assert len(res.rows) == 9


@pytest.mark.parametrize("data,fragment", [
    (b"", "empty file"),
    (b"\x00\x01\x02binary\xff\xfe" * 100, "binary"),
    ("title,record_id,text_body\nCaf\u00e9,1,x\n".encode("latin-1"), "not UTF-8"),
])
def test_unreadable_file(tmp_path, data, fragment):
    p = tmp_path / "in.csv"
    p.write_bytes(data)
    res = read_csv(p)
    assert res.rows == [] and len(res.errors) == 1
    assert res.errors[0].file == str(p) and fragment in res.errors[0].message
    # imported together with the real export, the real rows all come through
    (tmp_path / "data").mkdir()
    summary = run_import([p, SAMPLE], tmp_path / "data")
    assert [e.file for e in summary.errors] == [str(p)] and summary.counts["created"] == 11


def test_unterminated_quote_reports_the_line_and_keeps_earlier_rows():
    header, body = rows()
    text = to_csv(header, body[:2]) + '"' + ",".join(body[2])[:200]
    res = parse_csv(text, file="cut.csv")
    assert [r.record.key for r in res.rows] == KEYS[:2]
    (err,) = res.errors
    assert err.file == "cut.csv" and err.line and "malformed CSV" in err.message


def test_large_body_beyond_the_default_field_limit():
    header, body = rows()
    body[0][header.index("text_body")] = "Secret. " * 40_000          # 320 KB > csv's 128 KB default
    res = parse_csv(to_csv(header, body), file="big.csv")
    assert res.errors == [] and len(res.rows[0].record.body) == 8 * 40_000 - 1
