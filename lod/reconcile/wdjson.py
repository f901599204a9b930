"""Reading Wikidata entity JSON (wbgetentities shape): names, classes, dates, sitelinks.

Wikidata times carry a precision (9 year, 10 month, 11 day) and a calendar model; a birth "1878"
is the whole year, not 1 January, so comparisons use the interval a value covers. Julian-calendar
days are converted to Gregorian so they compare with document dates.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Any

GREGORIAN = "http://www.wikidata.org/entity/Q1985727"
JULIAN = "http://www.wikidata.org/entity/Q1985786"
_TIME = re.compile(r"^([+-])(\d{1,16})-(\d{2})-(\d{2})T")


def is_missing(ent: dict[str, Any]) -> bool:
    return "missing" in ent


def redirect(ent: dict[str, Any]) -> tuple[str, str] | None:
    r = ent.get("redirects")
    if isinstance(r, dict) and r.get("from") and r.get("to"):
        return str(r["from"]), str(r["to"])
    return None


def label(ent: dict[str, Any], langs: tuple[str, ...] = ("en", "mul", "zh", "ru")) -> str:
    labels = ent.get("labels") or {}
    for lang in langs:
        v = labels.get(lang)
        if isinstance(v, dict) and v.get("value"):
            return str(v["value"])
    for v in labels.values():
        if isinstance(v, dict) and v.get("value"):
            return str(v["value"])
    return ""


def labels(ent: dict[str, Any]) -> dict[str, str]:
    out = {}
    for lang, v in (ent.get("labels") or {}).items():
        if isinstance(v, dict) and v.get("value"):
            out[lang] = str(v["value"])
    return out


def description(ent: dict[str, Any], langs: tuple[str, ...] = ("en", "mul", "zh", "ru")) -> str:
    descs = ent.get("descriptions") or {}
    for lang in langs:
        v = descs.get(lang)
        if isinstance(v, dict) and v.get("value"):
            return str(v["value"])
    return ""


def names(ent: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (language, label or alias) of the entity."""
    out = list(labels(ent).items())
    for lang, vals in (ent.get("aliases") or {}).items():
        for v in vals if isinstance(vals, list) else []:
            if isinstance(v, dict) and v.get("value"):
                out.append((lang, str(v["value"])))
    return out


def _statements(ent: dict[str, Any], prop: str) -> list[dict[str, Any]]:
    claims = ent.get("claims") or {}
    stmts = claims.get(prop) if isinstance(claims, dict) else None
    if not isinstance(stmts, list):
        return []
    good = [s for s in stmts if isinstance(s, dict) and s.get("rank") != "deprecated"]
    preferred = [s for s in good if s.get("rank") == "preferred"]
    return preferred or good


def _value(stmt: dict[str, Any]) -> Any:
    snak = stmt.get("mainsnak") or {}
    if snak.get("snaktype", "value") != "value":
        return None
    return (snak.get("datavalue") or {}).get("value")


def item_values(ent: dict[str, Any], prop: str) -> list[str]:
    """QIDs of an item-valued property (P31 instance of, P17 country...)."""
    out = []
    for s in _statements(ent, prop):
        v = _value(s)
        if isinstance(v, dict):
            qid = v.get("id") or (f"Q{v['numeric-id']}" if "numeric-id" in v else None)
            if qid:
                out.append(str(qid))
    return out


def string_values(ent: dict[str, Any], prop: str) -> list[str]:
    return [str(v) for v in (_value(s) for s in _statements(ent, prop)) if isinstance(v, str)]


@dataclass(frozen=True)
class WDTime:
    year: int
    month: int          # 0 when unknown
    day: int            # 0 when unknown
    precision: int      # 9 year, 10 month, 11 day (coarser values are treated as year-or-worse)

    @property
    def iso(self) -> str:
        """ISO text at the value's precision, xsd-style years ('1898', '1898-11', '1898-11-24')."""
        y = f"{self.year:04d}" if self.year >= 0 else f"-{-self.year:04d}"
        if self.precision >= 11 and self.day:
            return f"{y}-{self.month:02d}-{self.day:02d}"
        if self.precision == 10 and self.month:
            return f"{y}-{self.month:02d}"
        return y

    @property
    def first(self) -> tuple[int, int, int]:
        if self.precision >= 11 and self.day:
            return (self.year, self.month, self.day)
        if self.precision == 10 and self.month:
            return (self.year, self.month, 1)
        if self.precision < 9:          # decade, century...: span of 10**(9 - precision) years
            span = 10 ** (9 - self.precision)
            return (self.year - self.year % span, 1, 1)
        return (self.year, 1, 1)

    @property
    def last(self) -> tuple[int, int, int]:
        if self.precision >= 11 and self.day:
            return (self.year, self.month, self.day)
        if self.precision == 10 and self.month:
            return (self.year, self.month, _days(self.year, self.month))
        if self.precision < 9:
            span = 10 ** (9 - self.precision)
            return (self.year - self.year % span + span - 1, 12, 31)
        return (self.year, 12, 31)


def _days(year: int, month: int) -> int:
    return calendar.monthrange(year if year > 0 else 2000, month)[1]


def time_value(ent: dict[str, Any], prop: str) -> WDTime | None:
    """The best-ranked time value of a property (P569 birth, P570 death), or None."""
    for s in _statements(ent, prop):
        v = _value(s)
        if not isinstance(v, dict) or not isinstance(v.get("time"), str):
            continue
        m = _TIME.match(v["time"])
        if not m:
            continue
        sign, y, mo, d = m.groups()
        year = int(y) * (-1 if sign == "-" else 1)
        precision = int(v.get("precision", 9))
        month, day = int(mo), int(d)
        if precision >= 11 and v.get("calendarmodel") == JULIAN and month and day:
            year, month, day = julian_to_gregorian(year, month, day)
        return WDTime(year, month if precision >= 10 else 0, day if precision >= 11 else 0, precision)
    return None


def julian_to_gregorian(year: int, month: int, day: int) -> tuple[int, int, int]:
    """Julian calendar date -> Gregorian (via the Julian Day Number)."""
    a = (14 - month) // 12
    y = year + 4800 - a
    m = month + 12 * a - 3
    jdn = day + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083
    a = jdn + 32044
    b = (4 * a + 3) // 146097
    c = a - 146097 * b // 4
    d = (4 * c + 3) // 1461
    e = c - 1461 * d // 4
    m = (5 * e + 2) // 153
    return (100 * b + d - 4800 + m // 10, m + 3 - 12 * (m // 10), e - (153 * m + 2) // 5 + 1)


def sitelink_count(ent: dict[str, Any]) -> int:
    s = ent.get("sitelinks")
    return len(s) if isinstance(s, dict) else 0


def wikipedia(ent: dict[str, Any], langs: tuple[str, ...] = ("en", "zh", "ru")) -> list[tuple[str, str]]:
    """(language, article URL) for Wikipedia sitelinks in the given languages."""
    out = []
    links = ent.get("sitelinks") or {}
    for lang in langs:
        link = links.get(f"{lang}wiki")
        if isinstance(link, dict) and link.get("title"):
            title = str(link["title"]).replace(" ", "_")
            out.append((lang, f"https://{lang}.wikipedia.org/wiki/{title}"))
    return out
