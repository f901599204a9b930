"""The authority: evidenced QIDs only, name resolution, mentions in running text."""

from __future__ import annotations

import csv
import functools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lod.authority import Authority, Entity, import_sources
from lod.records import RecordError

ROOT = Path(__file__).resolve().parent.parent
AUTHORITY = ROOT / "data" / "authority.yaml"
EVIDENCE = ROOT / "data" / "sources" / "authority" / "wikidata-evidence.csv"
VARIANTS = ROOT / "data" / "sources" / "authority" / "name-variants.md"


@pytest.fixture(scope="module")
def auth() -> Authority:
    return Authority.load(AUTHORITY)


def test_published_qids(auth):
    assert auth.resolve("Stalin").published_qid() == "Q855"
    assert auth.resolve("Mao Zedong").published_qid() == "Q5816"
    assert auth.resolve("Beria").published_qid() == "Q141829"
    liu, zhou = auth.resolve("Liu Shaoqi"), auth.resolve("Zhou Enlai")
    assert (liu.wikidata, liu.confidence, liu.published_qid()) == ("Q16988", "medium", None)
    assert (zhou.wikidata, zhou.confidence, zhou.published_qid()) == ("Q17411", "low", None)


def test_review_decides_unconfirmed_links():
    e = Entity(id="x", label="X", kind="person", wikidata="Q16988", confidence="medium")
    assert e.published_qid() is None
    e.review = {"status": "accepted", "by": "curator", "at": "2026-01-01"}
    assert e.published_qid() == "Q16988"
    e.review = {"status": "auto-accepted"}
    assert e.published_qid() == "Q16988"
    e.confidence, e.review = "high", {"status": "flagged"}
    assert e.published_qid() is None                      # flagged: never, even when high


def test_every_qid_has_evidence_in_the_sources(auth):
    """Never a QID from anyone's memory: each one is in wikidata-evidence.csv (or was reviewed)."""
    with open(EVIDENCE, encoding="utf-8", newline="") as fh:
        evidence = {(r["name"], r["wikidata"], r["confidence"]) for r in csv.DictReader(fh)}
    for e in auth.entities.values():
        if e.wikidata and not e.review:
            assert (e.label, e.wikidata, e.confidence) in evidence, e.id
    for name in ("Gao Gang", "Rao Shushi", "P. F. Yudin", "Tevosyan", "Zhang Guotao", "V. M. Molotov",
                 "Fedorenko", "Shepilov", "Shi Zhe", "Rakhmanin", "Anshan", "AVPRF"):
        assert auth.resolve(name).wikidata == "", name


def test_sources_reimport_gives_the_same_links(auth):
    fresh = Authority()
    import_sources(fresh, EVIDENCE, VARIANTS)
    for e in fresh.entities.values():
        mine = auth.resolve(e.label, e.kind)
        assert mine is not None, e.label
        assert (mine.wikidata, mine.confidence) == (e.wikidata, e.confidence)
        assert set(e.variants) <= set(mine.variants) | {mine.label}
    assert fresh.resolve("Pavel Yudin").birth == "1899-09-07"
    assert fresh.resolve("Gao Gang").description == "born Gao Chongde"


SEED_PEOPLE = {
    "P. F. Yudin": "pavel-yudin", "P.F. Yudin": "pavel-yudin", "P. Yudin": "pavel-yudin",
    "(P. YUDIN)": "pavel-yudin", "Ambassador P. F. Yudin": "pavel-yudin", "Yudin, Pavel F.": "pavel-yudin",
    "Павел Фёдорович Юдин": "pavel-yudin",
    "Cde. Fedorenko": "nikolai-fedorenko", "Cde. N.T. Fedorenko": "nikolai-fedorenko",
    "V. Vas'kov": "v-v-vaskov", "V. V. Vas’kov": "v-v-vaskov", "Soviet Embassy Counselor V. V. Vas'kov": "v-v-vaskov",
    "To Cde. D.T. Shepilov": "dmitri-shepilov", "Cde. I.F. Kurdiukov": "i-f-kurdiukov",
    "Cde. V. M. Molotov": "vyacheslav-molotov", "Yershova": "yershova", "Tevosyan": "ivan-tevosyan",
    "Embassy second secretary O.B. Rakhmanin": "oleg-rakhmanin", "Shi Zhe": "shi-zhe",
    "LIU SHAOQI": "liu-shaoqi", "Liu, Shaoqi": "liu-shaoqi", "  liu   shaoqi ": "liu-shaoqi",
    "劉少奇": "liu-shaoqi", "Chou En-lai": "zhou-enlai", "Cde. Mao Zedong": "mao-zedong",
    "Mao Tse-tung": "mao-zedong", "I. V. Stalin": "joseph-stalin", "Zhang Guotao": "zhang-guotao",
    "Paul Wingrove": "paul-wingrove", "Gary Goldberg": "gary-goldberg", "Austin Jersild": "austin-jersild",
    "Gao Gang": "gao-gang", "Kao Kang": "gao-gang", "Rao Shushi": "rao-shushi",
}


@pytest.mark.parametrize("name", sorted(SEED_PEOPLE))
def test_resolve_people(auth, name):
    assert auth.resolve(name).id == SEED_PEOPLE[name]


def test_resolve_places_organisations_and_ambiguity(auth):
    assert auth.resolve("Peking").id == "beijing" and auth.resolve("Beijing", "place").id == "beijing"
    assert auth.resolve("AVPRF").label == "Archive of Foreign Policy of the Russian Federation"
    assert auth.resolve("CCP").id == "chinese-communist-party"
    assert auth.resolve("CPSU", "organization").id == "communist-party-of-the-soviet-union"
    assert auth.resolve("Moscow", "person") is None              # kind filters
    assert auth.resolve("Mao") is None                           # not specific enough
    assert auth.resolve("Nobody Atall") is None and auth.resolve("") is None


def test_find_mentions_rules(auth):
    text = ("Cde. Mao Zedong spoke of the Mao-Lin faction; the Marxist and marx; I. V. Stalin's death; "
            "CCP and ccp; 毛泽东说; Stalingrad; MARX.")
    found = [(e.id, text[s:t]) for e, s, t in auth.find_mentions(text)]
    assert found == [("mao-zedong", "Mao Zedong"), ("joseph-stalin", "I. V. Stalin"),
                     ("chinese-communist-party", "CCP"), ("mao-zedong", "毛泽东"), ("karl-marx", "MARX")]


def test_find_mentions_spans_across_line_breaks(auth):
    text = "Present: Liu\nShaoqi and P.F.\nYudin."
    assert [(e.id, s) for e, s, _ in auth.find_mentions(text)] == [("liu-shaoqi", 9), ("pavel-yudin", 24)]


def test_ambiguous_one_word_variant_is_not_matched():
    a = Authority()
    a.add_unknown("Zhou Enlai", "person").variants.append("Zhou")
    b = a.add_unknown("Zhou Xiaozhou", "person")
    b.variants.append("Zhou")
    a = Authority(a.entities)                                    # re-index the variants
    assert [e.id for e, _, _ in a.find_mentions("Zhou met Zhou Xiaozhou.")] == ["zhou-xiaozhou"]
    assert a.resolve("Zhou") is None


def test_add_unknown_has_no_qid_and_reuses_known(tmp_path):
    a = Authority.load(AUTHORITY)
    before = len(a.entities)
    assert a.add_unknown("Liu, Shaoqi", "person").id == "liu-shaoqi"      # known: reused
    new = a.add_unknown("Doe, John", "person")
    assert (new.id, new.label, new.wikidata, new.confidence, new.published_qid()) == \
        ("john-doe", "John Doe", "", "", None)
    assert "Doe, John" in new.variants and len(a.entities) == before + 1
    fresh = Authority()
    assert fresh.add_unknown("Kawase, Ikkan", "person", context="Kawase Ikkan insists").label == "Kawase Ikkan"
    assert fresh.add_unknown("Lin, Biao", "person").label == "Lin Biao"
    a.save(tmp_path / "a.yaml")
    again = Authority.load(tmp_path / "a.yaml")
    assert again.resolve("Doe, John").id == "john-doe"
    again.save(tmp_path / "b.yaml")
    assert (tmp_path / "a.yaml").read_text() == (tmp_path / "b.yaml").read_text()


@pytest.mark.parametrize("content,field", [
    ("entities:\n- {id: x, label: X, kind: animal}\n", "kind"),
    ("entities:\n- {id: x, label: X, kind: person, wikidata: '855'}\n", "wikidata"),
    ("entities:\n- {id: x, label: X, kind: person, confidence: sure}\n", "confidence"),
    ("entities:\n- {id: x, label: X, kind: person, review: {status: maybe}}\n", "review"),
    ("entities:\n- {id: x, label: X, kind: person, variants: X}\n", "variants"),
    ("entities:\n- {id: x, label: X, kind: person}\n- {id: x, label: Y, kind: place}\n", "id"),
    ("entities:\n- {id: x, kind: person}\n", "label"),
    ("entities: [\n", None),
])
def test_broken_authority_file_is_located(tmp_path, content, field):
    p = tmp_path / "authority.yaml"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(RecordError) as exc:
        Authority.load(p)
    assert exc.value.file == str(p) and str(p) in exc.value.located()
    assert exc.value.field == field
    if field:
        assert exc.value.record == "x"


WORDS = st.sampled_from(["Liu", "Shaoqi", "Mao", "Zedong", "Cde.", "P.", "F.", "Yudin", "Stalin", "Marx",
                         "毛泽东", "İstanbul", "Vas’kov", "V.", "and", "the", "\n", ",", "-", "CCP", "ß"])


@functools.cache
def bundled() -> Authority:
    return Authority.load(AUTHORITY)


@settings(max_examples=300, deadline=None)
@given(st.lists(WORDS | st.text(max_size=4), max_size=30))
def test_find_mentions_spans_are_sound(words):
    """Random text: spans in order, never overlapping, and each span resolves to its entity."""
    auth = bundled()
    text = " ".join(words)
    last_end = 0
    for entity, start, end in auth.find_mentions(text):
        assert 0 <= last_end <= start < end <= len(text)
        assert auth.resolve(text[start:end]) is entity
        last_end = end
