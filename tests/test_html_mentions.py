"""Mentions in a document's text (lod.web.html.link_mentions): the same segments as the one regular
expression the page used to compile per document, ``(?<!\\w)(name|...)(?!\\w)`` with re.IGNORECASE and the
longest name first, found without compiling it."""

from __future__ import annotations

import random
import re
import sys

import pytest

from lod.web.html import Segment, fold, link_mentions


class FakeIndex:
    """link_mentions asks the index only for each mentioned IRI's link."""

    def link(self, iri: str) -> dict[str, str]:
        return {"iri": iri, "href": iri}


def by_regex(text: str, names: dict[str, list[str]]) -> list[tuple[str, str | None]]:
    """The page's former implementation, verbatim but for the result's shape."""
    by_name: dict[str, str] = {}
    for iri, variants in names.items():
        for v in variants:
            v = v.strip()
            if len(v) >= 3 and "," not in v:
                by_name.setdefault(v.lower(), iri)
    if not by_name or not text:
        return [(text, None)]
    pattern = re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in sorted(by_name, key=len, reverse=True))
                         + r")(?!\w)", re.IGNORECASE)
    out, pos = [], 0
    for m in pattern.finditer(text):
        if m.start() > pos:
            out.append((text[pos:m.start()], None))
        out.append((m.group(0), by_name[m.group(0).lower()]))
        pos = m.end()
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def segments(text: str, names: dict[str, list[str]]) -> list[tuple[str, str | None]]:
    segs = link_mentions(text, names, FakeIndex())  # type: ignore[arg-type]
    assert all(isinstance(s, Segment) for s in segs)
    assert "".join(s.text for s in segs) == text
    return [(s.text, s.link["iri"] if s.link else None) for s in segs]


def same(text: str, names: dict[str, list[str]]) -> list[tuple[str, str | None]]:
    got = segments(text, names)
    assert got == by_regex(text, names), (text, names)
    return got


LIU = {"liu": ["Liu Shaoqi", "Liu", "Shaoqi Liu", "Liu, Shaoqi"], "mao": ["Mao Zedong", "Mao"]}


def linked(segs: list[tuple[str, str | None]]) -> list[tuple[str, str]]:
    return [(t, iri) for t, iri in segs if iri]


def test_longest_name_first_and_whole_words_only() -> None:
    segs = same("Liu Shaoqi met Mao. Liu said; Shaoqi Liu left. Liuba and Maoist did not.", LIU)
    assert linked(segs) == [("Liu Shaoqi", "liu"), ("Mao", "mao"), ("Liu", "liu"), ("Shaoqi Liu", "liu")]


def test_overlapping_names_leftmost_wins() -> None:
    names = {"a": ["Kim Il Sung"], "b": ["Il Sung Park"], "c": ["Sung Park"]}
    assert linked(same("Kim Il Sung Park", names)) == [("Kim Il Sung", "a")]
    assert linked(same("Il Sung Park", names)) == [("Il Sung Park", "b")]
    assert linked(same("the Sung Park and Kim Il Sung Park", names)) == [
        ("Sung Park", "c"), ("Kim Il Sung", "a")]


def test_names_at_the_text_boundaries_and_next_to_punctuation() -> None:
    assert linked(same("Mao", LIU)) == [("Mao", "mao")]
    assert linked(same("Mao Zedong", LIU)) == [("Mao Zedong", "mao")]
    for text in ("(Mao)", '"Mao"', "Mao.", "—Mao—", "Mao's", "«Mao»", " Mao ", "Mao!"):
        assert linked(same(text, LIU)) == [("Mao", "mao")], text
    for text in ("Mao\nLiu", "Mao-Liu", "Mao/Liu", "Mao&Liu"):
        assert linked(same(text, LIU)) == [("Mao", "mao"), ("Liu", "liu")], text
    assert linked(same("Mao_Liu Mao2 2Mao xMao Maoé", LIU)) == []      # _, digits, letters: word characters


def test_case_is_ignored_as_re_ignores_it() -> None:
    assert linked(same("MAO ZEDONG and mao zedong and MaO", LIU)) == [
        ("MAO ZEDONG", "mao"), ("mao zedong", "mao"), ("MaO", "mao")]


def test_non_ascii_names() -> None:
    names = {"u": ["Walter Ulbricht", "Ulbricht"], "d": ["Phạm Văn Đồng", "Đồng"], "z": ["Żukow"],
             "g": ["Γεώργιος Παπανδρέου"], "r": ["Хрущёв"]}
    text = ("ULBRICHT and Walter Ulbricht; PHẠM VĂN ĐỒNG, đồng, Đồngs; żukow ŻUKOW; γεώργιος παπανδρέου; "
            "ХРУЩЁВ хрущёв Хрущев")
    assert linked(same(text, names)) == [
        ("ULBRICHT", "u"), ("Walter Ulbricht", "u"), ("PHẠM VĂN ĐỒNG", "d"), ("đồng", "d"), ("żukow", "z"),
        ("ŻUKOW", "z"), ("γεώργιος παπανδρέου", "g"), ("ХРУЩЁВ", "r"), ("хрущёв", "r")]


def test_characters_re_takes_for_others() -> None:
    """re.IGNORECASE matches more than lower() equates: ſ/s, ı and İ/i, ς/σ, K (Kelvin sign)/k."""
    names = {"s": ["Sasha"], "i": ["Ivan"], "o": ["Οδος"], "k": ["Kim"]}
    text = "ſaſha İvan ıvan ΟΔΟΣ οδοσ \u212aim"
    assert [iri for _, iri in linked(segments(text, names))] == ["s", "i", "i", "o", "o", "k"]
    with pytest.raises(KeyError):       # the former page failed on these (their lower() is no name)
        by_regex(text, names)
    assert linked(same("ΟΔΟΣ, Οδος, KIM and \u212aim", names)) == [
        ("ΟΔΟΣ", "o"), ("Οδος", "o"), ("KIM", "k"), ("\u212aim", "k")]


def test_names_too_short_or_in_catalogue_form_are_not_linked() -> None:
    names = {"x": ["Li", " Bo ", "Li, Bo", "  "]}
    assert linked(same("Li Bo and Li, Bo", names)) == []
    assert same("", LIU) == [("", None)] and same("text", {}) == [("text", None)]


def test_several_entities_sharing_a_name_first_entity_wins() -> None:
    names = {"first": ["Wang Bo"], "second": ["WANG BO", "Bobo"]}
    assert linked(same("wang bo and Bobo", names)) == [("wang bo", "first"), ("Bobo", "second")]


@pytest.mark.parametrize("seed", range(40))
def test_random_texts_give_the_regex_segments(seed: int) -> None:
    rnd = random.Random(seed)
    alphabet = "abAB ſsSıiIİσςΣ._-'\n1"
    words = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6))) for _ in range(12)]
    names = {f"e{k}": [" ".join(rnd.sample(words, rnd.randint(1, 3))) for _ in range(rnd.randint(1, 3))]
             for k in range(5)}
    for _ in range(20):
        pieces = [*words, *(w.upper() for w in words), *(w.swapcase() for w in words), " ", ", ", ".", "\n"]
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        try:
            expected = by_regex(text, names)
        except KeyError:            # the regex matched text whose lower() is no name's: the old page failed
            continue
        assert segments(text, names) == expected, (text, names)


def test_fold_takes_characters_for_each_other_exactly_as_re_ignorecase() -> None:
    """Every cased character (the only ones re.IGNORECASE matches with another): two match one another in
    re exactly when fold gives them the same character. Uncased ones fold to themselves."""
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c < 0xE000)
    folded = fold(chars)
    assert len(folded) == len(chars)
    cased = "".join(c for c in chars if c.lower() != c or c.upper() != c)
    cased_set = set(cased)
    assert all(f == c for c, f in zip(chars, folded, strict=True) if c not in cased_set)
    classes: dict[str, set[str]] = {}
    for c in cased:
        classes.setdefault(fold(c), set()).add(c)
    for c in cased:
        assert set(re.findall(re.escape(c), cased, re.IGNORECASE)) == classes[fold(c)], c
