"""Golden facts from both bundled document pages, and every kind of broken page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lod.authority import Authority
from lod.commands.importing import run_import
from lod.records import RecordError
from lod.sources.pages import parse_page, read_page

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "data" / "sources" / "pages"
SEED_A = PAGES / "journal-ambassador-p-f-yudin-record-conversation-liu-shaoqi-and-zhou-enlai-13-february.txt"
SEED_B = PAGES / "diary-soviet-ambassador-pf-yudin-memorandum-conversation-liu-shaoqi-30-october-1956.txt"
KEY_A = SEED_A.stem


@pytest.fixture(scope="module")
def authority() -> Authority:
    return Authority.load(ROOT / "data" / "authority.yaml")


@pytest.fixture(scope="module")
def a():
    return read_page(SEED_A)


@pytest.fixture(scope="module")
def b():
    return read_page(SEED_B)


def ids(authority: Authority, names: list[str]) -> list[str | None]:
    return [(e.id if (e := authority.resolve(n)) else None) for n in names]


# --- seed B (layout B, record 116814) --------------------------------------------------------
def test_seed_b_identity(b):
    assert b.key == b.record_id == "116814"
    assert b.source_url.endswith("/document/116814")
    assert b.title == ("Diary of Soviet Ambassador P.F. Yudin, Memorandum of Conversation "
                       "with Liu Shaoqi of 30 October 1956")
    assert b.date == "1956-11-22"
    assert b.doc_type == "memorandum-of-conversation"
    assert b.entry_date == "1956-11-22" and b.entry_number == "865"
    assert b.classification == "TOP SECRET" and b.copy_number == "1"
    assert b.outgoing_number == "1452"


def test_seed_b_people(b, authority):
    assert ids(authority, b.authors) == ["pavel-yudin"]
    assert b.conversation.date == "1956-10-30"
    assert ids(authority, b.conversation.participants) == ["liu-shaoqi"]
    assert ids(authority, b.conversation.present) == ["oleg-rakhmanin"]
    assert b.addressees == ["Cde. D.T. Shepilov", "Cde. N.T. Fedorenko", "Cde. I.F. Kurdiukov"]
    assert ids(authority, b.addressees) == ["dmitri-shepilov", "nikolai-fedorenko", "i-f-kurdiukov"]
    assert b.filed_by == ["Rakhmanin"] and b.filed_date == "1956-11-21"
    assert b.translated_by == ["Austin Jersild"] and b.obtained_by == ["Austin Jersild"]


def test_seed_b_marx_and_lenin_referred_to(b, authority):
    found = {e.id: b.body[s:t] for e, s, t in authority.find_mentions(b.body)}
    assert found["karl-marx"] == "Marx" and found["vladimir-lenin"] == "Lenin"
    assert {"liu-shaoqi", "zhou-enlai", "yugoslavia", "hungary", "vietnam"} <= set(found)


def test_seed_b_citation_and_trailer(b):
    c = b.citation
    # "p. 410" between op. and d. is the papka (folder) in Russian archival citations, not a page
    assert (c.archive_abbrev, c.fond, c.opis, c.papka, c.delo, c.list, c.pages, c.year) == \
        ("AVPRF", "0100", "49", "410", "9", "202-03", "", "1956")
    assert c.text == "AVPRF f. 0100, op. 49, 1956, p. 410, d. 9, l. 202-03"
    assert b.summary.startswith("Liu Shaoqi discusses the potential withdrawal of Soviet advisors")
    assert b.credits == "This document was made possible with support from Leon Levy Foundation"
    assert b.funders == ["Leon Levy Foundation"]
    assert b.original_language == ["Russian"] and b.translation_language == "English"


def test_seed_b_body_without_stamps_or_signature(b):
    assert b.body.startswith("Today I had a discussion with Liu Shaoqi")
    assert b.body.endswith("O.B. Rakhmanin was present at the discussion.")
    for stamp in ("TOP SECRET", "USSR AMBASSADOR", "To Cde.", "Filed by", "Translation - English"):
        assert stamp not in b.body


# --- seed A (layout A, slug only) ------------------------------------------------------------
def test_seed_a_identity(a):
    assert a.key == a.slug == KEY_A and a.record_id == "" and a.source_url == ""
    assert a.title.startswith("From the Journal of Ambassador P. F. Yudin: Record of a Conversation")
    assert a.date == "1954-02-13"
    assert a.doc_type == "record-of-conversation"
    assert a.entry_date == "1954-02-23" and a.entry_number == "144"
    assert a.copy_number == "1" and a.incoming_numbers == ["066ss", "0115-vk"]
    assert a.outgoing_number == "215"


def test_seed_a_conversation(a, authority):
    conv = a.conversation
    assert conv.date == "1954-02-13"
    assert ids(authority, conv.participants) == ["liu-shaoqi", "zhou-enlai"]
    assert conv.present == ["V. V. Vas'kov", "Shi Zhe"]
    assert ids(authority, conv.present) == ["v-v-vaskov", "shi-zhe"]
    assert conv.description.startswith("with LIU SHAOQI, CCP CC Secretary and ZHOU ENLAI")
    assert ids(authority, a.authors) == ["pavel-yudin"]


def test_seed_a_trailer(a, authority):
    assert a.drafted_by == ["V. Vas'kov"] and ids(authority, a.drafted_by) == ["v-v-vaskov"]
    assert a.typed_by == ["Yershova"] and ids(authority, a.typed_by) == ["yershova"]
    assert a.copies_sent == ["Cde. V. M. Molotov", "file"]
    assert ids(authority, a.copies_sent[:1]) == ["vyacheslav-molotov"]
    assert a.obtained_by == ["Paul Wingrove"] and a.translated_by == ["Gary Goldberg"]
    assert a.summary.startswith("Yudin records a conversation he had with Liu Shaoqi and Zhou Enlai")
    assert a.rights.startswith("The History and Public Policy Program welcomes reuse")


def test_seed_a_citation(a):
    c = a.citation
    assert c.archive == "Archive of Foreign Policy of the Russian Federation" and c.archive_abbrev == "AVPRF"
    assert (c.fond, c.opis, c.papka, c.delo) == ("0100", "47", "379", "7")
    assert c.pages == "36-40"      # the "[pp.] 36-40" stamp


def test_seed_a_mentions(a, authority):
    found = {e.id for e, _, _ in authority.find_mentions(a.body)}
    assert {"gao-gang", "rao-shushi", "mao-zedong", "joseph-stalin", "lavrentiy-beria", "zhang-guotao",
            "ivan-tevosyan", "anshan", "shanghai", "beijing", "moscow"} <= found
    qids = {e.id: e.published_qid() for e, _, _ in authority.find_mentions(a.body)}
    assert (qids["joseph-stalin"], qids["mao-zedong"], qids["lavrentiy-beria"]) == ("Q855", "Q5816", "Q141829")


def test_seed_a_body(a):
    assert a.body.startswith("Today I visited Liu Shaoqi and Zhou Enlai")
    assert a.body.endswith("which lasted more than an hour and a half.")
    for stamp in ("/signature/", "Drafted by", "copies sent", "Document Information", "Incoming", "Nº"):
        assert stamp not in a.body


# --- broken pages ----------------------------------------------------------------------------
def _variant(tmp: Path, name: str, data: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


A_TEXT = SEED_A.read_text(encoding="utf-8")
B_TEXT = SEED_B.read_text(encoding="utf-8")
CASES = {
    # name: (content, field expected in the error, message fragment)
    "empty": (b"", "text", "empty file"),
    "garbage": (bytes(range(256)) * 8, "text", "binary"),
    "nul": (b"November 22, 1956\nA title here\x00\x00", "text", "binary"),
    "latin1": (b"November 22, 1956\nDiary of Ambassador Yudin\n" + b"caf\xe9\n", "text", "not UTF-8"),
    "truncated-body": (A_TEXT[:A_TEXT.index("Rao Shushi spoke more")], "citation", "truncated"),
    "truncated-citation": (B_TEXT[:B_TEXT.index("1956, p. 410")], "citation", "truncated"),
    "truncated-after-citation": (B_TEXT[:B_TEXT.index("Obtained and translated")], "body", "truncated"),
    "missing-title": (A_TEXT.replace(A_TEXT.splitlines()[4], "", 1), "title", "missing title"),
    "impossible-date": (A_TEXT.replace("23 February 1954", "31 February 1954"), "entry_date",
                        "impossible date"),
    "unparseable-date": (B_TEXT.replace("November 22, 1956", "Novembruary 22, 1956", 1), "date",
                         "unrecognised date"),
    "no-body": (B_TEXT[:B_TEXT.index("TOP SECRET")], "body", "truncated"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_page_is_located_and_others_import(tmp_path, case):
    content, field, fragment = CASES[case]
    bad = _variant(tmp_path, f"{case}.txt", content)
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ROOT / "data" / "authority.yaml", data / "authority.yaml")
    summary = run_import([SEED_A, bad, SEED_B], data)
    assert len(summary.errors) == 1, [e.located() for e in summary.errors]
    err = summary.errors[0]
    assert err.file == str(bad) and str(bad) in err.located()
    assert fragment in err.message
    assert err.field == field and f"field {field}" in err.located()
    has_id = isinstance(content, str) and "/document/116814" in content
    # the record is named by its record ID when the page still has it, else by its slug (file name)
    assert err.record == ("116814" if has_id else case) and f"record {err.record}" in err.located()
    assert sorted(p.name for p in (data / "records").glob("*.yaml")) == ["116814.yaml", f"{KEY_A}.yaml"]


@pytest.mark.parametrize("text", [A_TEXT, B_TEXT], ids=["A", "B"])
def test_any_truncation_is_a_record_error_never_a_crash(text):
    for cut in range(0, len(text), 97):
        try:
            parse_page(text[:cut], file="cut.txt", stem="cut")
        except RecordError as exc:
            assert exc.file == "cut.txt"


def test_windows_line_endings_and_bom(tmp_path, b):
    p = _variant(tmp_path, SEED_B.name, b"\xef\xbb\xbf" + B_TEXT.replace("\n", "\r\n").encode())
    again = read_page(p)
    assert again.to_dict() == b.to_dict()
