"""Historical dates as the sources write them, kept at their real precision.

A record stores a date as ISO 8601 text at the precision the source gives: ``1956-10-30``,
``1967-11`` or ``1967``. Mapping turns that into a CRM time-span covering the whole period
(``1967-11`` is 1967-11-01 .. 1967-11-30, never just the 1st).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9

ISO_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
# "February 13, 1954", "13 February 1954", "November 1967", "1954"
_PATTERNS = [
    (re.compile(rf"^{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})$", re.I), ("m", "d", "y")),
    (re.compile(rf"^(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(\d{{4}})$", re.I), ("d", "m", "y")),
    (re.compile(rf"^{_MONTH},?\s+(\d{{4}})$", re.I), ("m", "y")),
    (re.compile(r"^(\d{4})$"), ("y",)),
]


class DateError(ValueError):
    """A date that cannot be read, or names a day that does not exist."""


def parse(text: str) -> str:
    """Read a date as written in a source; return ISO text at the source's precision.

    Raises DateError for unparseable text and impossible days ("31 February 1954").
    """
    t = " ".join(text.strip().split())
    if not t:
        raise DateError("empty date")
    if ISO_RE.match(t):
        return normalise(t)
    for rx, order in _PATTERNS:
        m = rx.match(t)
        if not m:
            continue
        parts = dict(zip(order, m.groups(), strict=True))
        y = int(parts["y"])
        mo = MONTHS[parts["m"].lower().rstrip(".")] if "m" in parts else None
        d = int(parts["d"]) if "d" in parts else None
        return _iso(y, mo, d, t)
    raise DateError(f"unrecognised date {text!r}")


def normalise(iso: str) -> str:
    """Check an ISO date of any precision; raise DateError if it is impossible."""
    m = ISO_RE.match(iso.strip())
    if not m:
        raise DateError(f"not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD): {iso!r}")
    y, mo, d = (int(g) if g else None for g in m.groups())
    return _iso(y, mo, d, iso)


def _iso(y: int, mo: int | None, d: int | None, original: str) -> str:
    if mo is None:
        return f"{y:04d}"
    if not 1 <= mo <= 12:
        raise DateError(f"impossible month in {original!r}")
    if d is None:
        return f"{y:04d}-{mo:02d}"
    try:
        date(y, mo, d)
    except ValueError:
        raise DateError(f"impossible date {original!r}") from None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def span(iso: str) -> tuple[str, str]:
    """First and last day covered by an ISO date of any precision."""
    iso = normalise(iso)
    parts = [int(p) for p in iso.split("-")]
    if len(parts) == 3:
        return iso, iso
    if len(parts) == 2:
        y, mo = parts
        last = calendar.monthrange(y, mo)[1]
        return f"{y:04d}-{mo:02d}-01", f"{y:04d}-{mo:02d}-{last:02d}"
    (y,) = parts
    return f"{y:04d}-01-01", f"{y:04d}-12-31"


def year(iso: str) -> int:
    return int(iso[:4])
