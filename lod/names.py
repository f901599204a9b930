"""Personal and corporate names as archives write them: inverted, initialled, titled, romanised.

Used by the authority (lod.authority) to turn "Liu, Shaoqi", "Cde. D.T. Shepilov" or
"Chiang, Ching-kuo (Jiang Jingguo)" into a label plus variants, and to normalise names to
comparison keys. Pure functions, no data files.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# Words that precede a name without being part of it ("Cde. Mao Zedong", "Soviet Embassy Counselor V. V. Vas'kov").
TITLE_WORDS = frozenset("""
to cde cdes comrade comrades tov tovarishch mr mrs ms miss dr prof professor sir
ambassador soviet embassy counselor counsellor first second third secretary attache
chairman premier president prime minister vice deputy general marshal chancellor pm
ussr prc ccp cc cpsu chinese national defense defence foreign affairs of the
""".split())

# Pinyin / Wade-Giles family names: a fallback for deciding name order of "Lin, Biao" when the
# record itself does not show the name written out. A wrong guess only affects the label, and a
# curator can change it in authority.yaml; both orders stay variants.
CHINESE_SURNAMES = frozenset("""
bai cai cao chang chao chen cheng chiang chou chu chung cui dai deng ding dong du duan fan fang
feng fu gao gong gu guo han hao he ho hou hsu hu hua huang hung jia jiang jin kang kao kong kuo
lai lei li liang liao lin liu long lu luo ma mao meng pan peng qian qiao qin qiu rao ren shao shen
shi song su sun tan tang teng tian wan wang wei wen wong wu xia xiao xie xiong xu xue yan yang yao
ye yi yin yu yuan zeng zhang zhao zheng zhong zhou zhu zou
""".split())

ORG_WORDS = re.compile(
    r"\b(association|ministry|committee|bureau|division|department|party|foundation|archives?|"
    r"council|government|embassy|office|agency|institute|university|library|museum|centre|center|"
    r"program(?:me)?|project|union|league|army|navy|bank|company|corporation|commission|"
    r"secretariat|presidium|politburo|headquarters|administration|society|federation|congress)\b",
    re.I)

_APOSTROPHES = "'’ʹʼ`´"
_MACRONS = set("āēīōūĀĒĪŌŪ")
_INITIAL = re.compile(r"^[^\W\d_]\.?$")
_WORD = re.compile(r"\w+")
_DOT_BEFORE = re.compile(r"\.(?=\S)")


def fold(text: str) -> str:
    """Strip diacritics ("Satō" -> "Sato", "António" -> "Antonio"); other scripts are kept."""
    t = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in t if not unicodedata.combining(c)))


def key(name: str) -> str:
    """Comparison key: case, diacritics, apostrophes, punctuation and spacing ignored.

    "P.F. Yudin" and "P. F. YUDIN" give "p f yudin"; "Vas’kov" and "Vas'kov" give "vaskov".
    """
    t = fold(unicodedata.normalize("NFKC", name)).casefold()
    for a in _APOSTROPHES:
        t = t.replace(a, "")
    return " ".join(_WORD.findall(t))


def strip_titles(name: str) -> str:
    """Drop leading honorifics and function words: "To Cde. D.T. Shepilov" -> "D.T. Shepilov"."""
    parts = name.split()
    while len(parts) > 1 and key(parts[0]) in TITLE_WORDS:
        parts.pop(0)
    return " ".join(parts)


def is_initial(token: str) -> bool:
    return bool(_INITIAL.match(token))


def split_initials(name: str) -> tuple[list[str], str] | None:
    """"P. F. Yudin" / "P.F. Yudin" -> (["p", "f"], "yudin"); None if the name is not initials + surname."""
    t = _DOT_BEFORE.sub(". ", name.strip())
    tokens = t.split()
    if len(tokens) < 2 or not all(is_initial(x) for x in tokens[:-1]) or is_initial(tokens[-1]):
        return None
    return [key(x) for x in tokens[:-1]], key(tokens[-1])


def initial_forms(name: str) -> list[str]:
    """Spellings of an initialled name: "P. F. Yudin" -> ["P. F. Yudin", "P.F. Yudin", "P. Yudin"]."""
    t = _DOT_BEFORE.sub(". ", name.strip())
    tokens = t.split()
    if split_initials(t) is None:
        return []
    inits = [x.rstrip(".") + "." for x in tokens[:-1]]
    surname = tokens[-1]
    forms = [" ".join(inits + [surname]), "".join(inits) + " " + surname]
    if len(inits) > 1:
        forms.append(inits[0] + " " + surname)
    return list(dict.fromkeys(forms))


@dataclass
class ParsedName:
    label: str
    variants: list[str] = field(default_factory=list)


def _family_first(surname: str, given: str, alt: str, context: str) -> bool:
    ctx = key(context)
    if ctx:
        fam, west = key(f"{surname} {given}"), key(f"{given} {surname}")
        if f" {fam} " in f" {ctx} ":
            return True
        if f" {west} " in f" {ctx} ":
            return False
    if alt or "-" in given or set(surname + given) & _MACRONS:
        return True
    return key(surname) in CHINESE_SURNAMES and len(given.split()) == 1


def parse_name(raw: str, kind: str = "person", context: str = "") -> ParsedName:
    """Label and variants for a name as an archive writes it.

    "Liu, Shaoqi" -> "Liu Shaoqi"; "Nehru, Jawaharlal" -> "Jawaharlal Nehru";
    "Chiang, Ching-kuo (Jiang Jingguo)" -> "Chiang Ching-kuo" + variant "Jiang Jingguo";
    'Blair, Anthony Charles Lynton ("Tony")' -> "Tony Blair" + "Anthony Charles Lynton Blair".
    Name order of inverted names follows the record's own text (context) when it shows the name.
    """
    raw = " ".join(raw.split())
    variants = [raw]
    name, alt, nick = raw, "", ""
    m = re.match(r"^(.*?)\s*\((.+)\)$", raw)
    if m and m.group(1):
        name, inner = m.group(1), m.group(2).strip()
        if inner[:1] in "\"'“‘" and inner[-1:] in "\"'”’":
            nick = inner.strip("\"'“”‘’ ")
        else:
            alt = inner
    if kind != "person" or "," not in name:
        label = name
        variants.append(name)
        if alt:
            variants.append(alt)
        return ParsedName(label, _unique(variants + [fold(v) for v in variants]))
    surname, given = (p.strip() for p in name.split(",", 1))
    variants.append(name)
    family = f"{surname} {given}"
    western = f"{given} {surname}"
    if _family_first(surname, given, alt, context):
        label = family
        variants += [family, western]
    else:
        label = western
        variants += [western]
        firsts = given.split()
        if len(firsts) > 1:
            variants.append(f"{firsts[0]} {surname}")
    if nick:
        variants.append(label)
        label = f"{nick} {surname}"
    if alt:
        variants.append(alt)
    variants.append(label)
    return ParsedName(label, _unique(variants + [fold(v) for v in variants]))


def guess_kind(name: str) -> str:
    """'person' or 'organization' for an author/people cell: "Japan. Foreign Ministry" is a body."""
    if ORG_WORDS.search(name):
        return "organization"
    bare = strip_titles(name)
    if re.match(r"^[^\W\d_]{3,}\.\s+\w", bare) and "," not in bare and split_initials(bare) is None:
        return "organization"   # hierarchical corporate heading "Japan. Foreign Ministry"
    return "person"


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in items:
        i = " ".join(i.split())
        if i:
            seen.setdefault(i, None)
    return list(seen)
