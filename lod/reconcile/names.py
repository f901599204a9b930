"""Script-aware name handling: clean, group by script, compare.

Archive names come as "Liu, Shaoqi", "Cde. D.T. Shepilov", "Chiang, Ching-kuo (Jiang Jingguo)",
"刘少奇" or "Павел Фёдорович Юдин". Names are compared only with names in the same script
(Latin with Latin, Han with Han, Cyrillic with Cyrillic): a fuzzy match across romanisations is
not evidence, an exact label or alias in the same script is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

LATIN, HAN, CYRILLIC, OTHER = "latin", "han", "cyrillic", "other"
# wbsearchentities language per script: searching a Chinese name in English finds nothing useful.
SEARCH_LANGUAGE = {LATIN: "en", HAN: "zh", CYRILLIC: "ru"}
# label/alias languages compared per script
LANGUAGES = {LATIN: None, HAN: ("zh", "zh-hans", "zh-hant", "zh-cn", "zh-tw", "zh-hk", "zh-sg", "zh-mo",
                                "ja", "ko"),
             CYRILLIC: ("ru", "uk", "be", "bg", "sr", "kk", "mn")}

_TITLES = {
    "cde", "comrade", "comrades", "mr", "mrs", "ms", "dr", "prof", "gen", "general", "marshal", "ambassador",
    "chairman", "premier", "president", "minister", "secretary", "sir", "lord", "tov", "товарищ", "тов",
    "господин", "г-н", "amb", "adm", "admiral", "col", "colonel", "lt", "capt", "prime",
}
_SPACE = re.compile(r"\s+")


def script(text: str) -> str:
    """The dominant script of a name (by letters)."""
    counts = {LATIN: 0, HAN: 0, CYRILLIC: 0, OTHER: 0}
    for ch in text:
        if not ch.isalpha():
            continue
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FA1F or 0xF900 <= o <= 0xFAFF:
            counts[HAN] += 1
        elif 0x0400 <= o <= 0x052F:
            counts[CYRILLIC] += 1
        elif o < 0x0250 or 0x1E00 <= o <= 0x1EFF:
            counts[LATIN] += 1
        else:
            counts[OTHER] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else OTHER


def clean(name: str) -> list[str]:
    """Name forms to search and compare: titles dropped, inverted forms turned, parentheses split.

    "Chiang, Ching-kuo (Jiang Jingguo)" -> ["Ching-kuo Chiang", "Chiang Ching-kuo", "Jiang Jingguo"];
    "Cde. D.T. Shepilov" -> ["D.T. Shepilov"]; "1- to Cde. V. M. Molotov" -> ["V. M. Molotov"].
    """
    text = unicodedata.normalize("NFC", name or "").strip()
    text = re.sub(r"^\s*\d+\s*-\s*to\s+", "", text, flags=re.I)       # "1- to Cde. X"
    text = re.sub(r"^\s*to\s+", "", text, flags=re.I)
    out: list[str] = []
    for inner in re.findall(r"\(([^)]*)\)", text):
        if inner.strip()[:1] in {'"', "“", "'"}:                         # ("Tony"): a nickname, not a name
            continue
        inner = inner.strip()
        if inner and not re.fullmatch(r"[\d\s–\-.?]+", inner):       # not "(1899-1968)"
            out.extend(clean(inner))
    text = re.sub(r"\([^)]*\)", " ", text)
    text = text.replace("“", '"').replace("”", '"')
    text = re.sub(r'"[^"]*"', " ", text)                               # nicknames ("Tony")
    text = _SPACE.sub(" ", text).strip(" ,;")
    if not text:
        return _dedupe(out)
    forms = []
    if "," in text and script(text) != HAN:
        head, _, tail = text.partition(",")
        head, tail = _strip_titles(head.strip()), _strip_titles(tail.strip())
        if head and tail:
            forms.append(f"{tail} {head}")       # Western order: "Helmut Kohl"
            forms.append(f"{head} {tail}")       # family name first: "Liu Shaoqi"
        else:
            forms.append(head or tail)
    else:
        forms.append(_strip_titles(text))
    return _dedupe([f for f in forms if f] + out)


def _strip_titles(text: str) -> str:
    tokens = text.split()
    while tokens and tokens[0].lower().rstrip(".") in _TITLES and len(tokens) > 1:
        tokens.pop(0)
    return " ".join(tokens)


def _dedupe(items: list[str]) -> list[str]:
    seen, out = set(), []
    for i in items:
        k = fold(i)
        if i and k not in seen:
            seen.add(k)
            out.append(i)
    return out


def fold(text: str) -> str:
    """Comparison form: case, accents, punctuation and spacing folded; Han characters kept as they are."""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(c for c in t if not unicodedata.combining(c))
    t = t.lower().replace("ё", "е").replace("'", "").replace("’", "").replace("ʹ", "").replace("ʼ", "")
    if script(t) == HAN:
        return re.sub(r"[\s·・•.\-]", "", t)
    t = re.sub(r"[^\w]+", " ", t)
    return _SPACE.sub(" ", t).strip()


def tokens(text: str) -> list[str]:
    return fold(text).split()


def initials_only(name: str) -> bool:
    """'P. F. Yudin', 'P.F. Yudin', 'Yudin, P.F.': only initials besides the family name."""
    if script(name) == HAN:
        return False
    raw = re.sub(r"([A-Za-zА-Яа-яЁё])\.", r"\1 ", name.replace(",", " "))
    parts = [p for p in raw.split() if p.lower().rstrip(".") not in _TITLES]
    if len(parts) < 2:
        return False
    singles = [p for p in parts if len(p) == 1]
    return len(singles) == len(parts) - 1


def search_forms(names: list[str], kind: str = "person") -> tuple[list[tuple[str, str]], list[str]]:
    """(text, script) pairs worth searching, and notes on what could not be searched.

    Full names (two or more words, or any Chinese name) are searched; a bare surname or an
    initialled form ("P. F. Yudin") only when no full name exists, and then the entry is noted as
    weakly named (never auto-accepted). Places and organisations are often one word ("Anshan").
    """
    full: list[tuple[str, str]] = []
    weak: list[tuple[str, str]] = []
    shown: list[str] = []
    notes: list[str] = []
    covered: set[tuple[str, ...]] = set()     # token sets already searched by an earlier name
    for name in names:
        fresh = [f for f in clean(name) if tuple(sorted(tokens(f))) not in covered]
        covered.update(tuple(sorted(tokens(f))) for f in fresh)
        for form in fresh:
            sc = script(form)
            if sc == OTHER:
                notes.append(f"name {form!r}: script not searched (only Latin, Chinese, Cyrillic)")
                continue
            if len(fold(form).replace(" ", "")) < 2:
                notes.append(f"name {form!r}: too short to search")
                continue
            toks = tokens(form)
            if sc != HAN and all(len(t) == 1 for t in toks):
                notes.append(f"name {form!r}: only initials, nothing to search")
                continue
            if sc == HAN or kind != "person":
                full.append((form, sc))
            elif len(toks) > 1 and len(toks[-1]) == 1:
                continue                                 # "Yudin Pavel F.": an inverted form, not a name
            elif initials_only(form):
                family = max(re.split(r"[\s.]+", form), key=len)
                weak.append((family, sc))
                shown.append(form)
            elif len([t for t in toks if len(t) > 1]) < 2:
                weak.append((form, sc))
                shown.append(form)
            else:
                full.append((form, sc))
    forms = full
    if not full and weak:
        notes.append(f"only initials or a surname ({'; '.join(shown)}): searched by family name; "
                     "never auto-accepted")
        forms = weak
    seen, out = set(), []
    for form, sc in forms:
        k = (fold(form), sc)
        if k not in seen:
            seen.add(k)
            out.append((form, sc))
    return out, notes


@dataclass(frozen=True)
class NameMatch:
    score: float
    ours: str
    theirs: str
    how: str          # "exact", "reordered", "initials", "fuzzy"
    language: str = ""

    def evidence(self) -> str:
        if not self.theirs:
            return "no label or alias in the scripts of our variants"
        lang = f"{self.language} " if self.language else ""
        return f"{lang}label/alias {self.theirs!r} ~ our {self.ours!r}: {self.how} ({self.score:.2f})"


def similarity(ours: str, theirs: str) -> tuple[float, str]:
    """Similarity of two names in the same script, with how it was reached."""
    a, b = fold(ours), fold(theirs)
    if not a or not b:
        return 0.0, "empty"
    if a == b:
        return 1.0, "exact"
    if script(ours) == HAN or script(theirs) == HAN:
        return round(0.85 * SequenceMatcher(None, a, b).ratio(), 3), "fuzzy"
    ta, tb = a.split(), b.split()
    if sorted(ta) == sorted(tb):
        return 0.97, "reordered"
    if a.replace(" ", "") == b.replace(" ", ""):
        return 0.97, "spacing"
    if _initials_fit(ours, tb) or _initials_fit(theirs, ta):
        return 0.8, "initials"
    short, long_ = (ta, tb) if len(ta) <= len(tb) else (tb, ta)
    if len(short) >= 2 and set(short) <= set(long_) and short[-1] == long_[-1]:
        return 0.9, "partial"            # "Joseph Stalin" ~ "Joseph Vissarionovich Stalin"
    return round(0.85 * SequenceMatcher(None, " ".join(sorted(ta)), " ".join(sorted(tb))).ratio(), 3), "fuzzy"


def _initials_fit(initialled: str, full: list[str]) -> bool:
    """'P. F. Yudin' fits ['pavel', 'fyodorovich', 'yudin']: same family name, initials in order."""
    if not initials_only(initialled) or len(full) < 2:
        return False
    parts = tokens(re.sub(r"([A-Za-zА-Яа-яЁё])\.", r"\1 ", initialled))
    family = [p for p in parts if len(p) > 1]
    inits = [p for p in parts if len(p) == 1]
    if len(family) != 1:
        return False
    fam = family[0]
    if fam == full[-1]:
        given = full[:-1]
    elif fam == full[0]:
        given = full[1:]
    else:
        return False
    return len(inits) <= len(given) and all(g.startswith(i) for i, g in zip(inits, given, strict=False))


def best_match(our_names: list[str], their_names: list[tuple[str, str]]) -> NameMatch:
    """Best same-script match between our name forms and (language, label) pairs of a candidate."""
    best = NameMatch(0.0, "", "", "none")
    ours = [(f, script(f)) for n in our_names for f in clean(n)]
    for lang, label in their_names:
        sc = script(label)
        allowed = LANGUAGES.get(sc)
        if allowed is not None and lang.split("-")[0] not in {a.split("-")[0] for a in allowed}:
            continue
        for form, fsc in ours:
            if fsc != sc:
                continue
            s, how = similarity(form, label)
            if s > best.score:
                best = NameMatch(s, form, label, how, lang)
    return best
