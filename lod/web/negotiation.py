"""HTTP content negotiation (RFC 9110 §12.5.1), pure and small so it can be tested on its own.

Rules (documented in docs/uris.md, "Dereferencing"):

* each offer takes the q of the MOST SPECIFIC range that matches it (``type/subtype;params`` >
  ``type/subtype`` > ``type/*`` > ``*/*``); among equally specific duplicates the highest q counts;
* the offer with the highest q wins; ``q=0`` means "not acceptable";
* equal q: the server's preference, i.e. the order of ``offers`` (Turtle first, HTML last);
* no ``Accept`` header (or an empty one) means ``*/*``: the server's first preference;
* ``charset=utf-8`` is always satisfied (we serve UTF-8); other parameters must match exactly;
* a malformed range is ignored, never an error; an absurdly long header is cut at
  ``MAX_HEADER`` characters / ``MAX_RANGES`` ranges, so a request cannot make us work hard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_HEADER = 4096
MAX_RANGES = 64

_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    @property
    def specificity(self) -> int:
        if self.type == "*":
            return 0
        if self.subtype == "*":
            return 1
        return 3 if self.params else 2

    def matches(self, offer: tuple[str, str, tuple[tuple[str, str], ...]]) -> bool:
        t, s, params = offer
        if self.type != "*" and self.type != t:
            return False
        if self.subtype != "*" and self.subtype != s:
            return False
        return all(p in params for p in self.params)


def _token(s: str) -> bool:
    return bool(s) and all(c in _TOKEN for c in s)


def _parse_q(value: str) -> float | None:
    """RFC qvalue: 0, 1, 0.xyz, 1.000; anything else is malformed."""
    v = value.strip()
    if not v or len(v) > 5 or v[0] not in "01":
        return None
    try:
        q = float(v)
    except ValueError:
        return None
    if not 0.0 <= q <= 1.0 or (len(v) > 1 and v[1] != "."):
        return None
    return q


def _split_type(text: str) -> tuple[str, str, tuple[tuple[str, str], ...]] | None:
    head, *param_parts = text.split(";")
    t, sep, s = head.strip().lower().partition("/")
    if not sep or not _token(t) or not _token(s) or (t == "*" and s != "*"):
        return None
    params = []
    for p in param_parts:
        name, eq, value = p.strip().partition("=")
        name = name.strip().lower()
        if not eq or not _token(name):
            return None
        value = value.strip().strip('"')
        if name == "charset" and value.lower() in ("utf-8", "utf8"):
            continue            # we always serve UTF-8: this parameter asks for nothing else
        params.append((name, value))
    return t, s, tuple(params)


@lru_cache(maxsize=512)
def parse_accept(header: str | None) -> tuple[MediaRange, ...]:
    """Accept header -> media ranges (malformed ones dropped). None/empty means ``*/*``."""
    if header is None or not header.strip():
        return (MediaRange("*", "*", (), 1.0),)
    ranges: list[MediaRange] = []
    for part in header[:MAX_HEADER].split(",")[:MAX_RANGES]:
        if not part.strip():
            continue
        # split off q and anything after it (accept-extensions)
        pieces = part.split(";")
        q = 1.0
        kept: list[str] = []
        bad = False
        for i, piece in enumerate(pieces):
            name, eq, value = piece.strip().partition("=")
            if i > 0 and name.strip().lower() == "q" and eq:
                parsed = _parse_q(value)
                if parsed is None:
                    bad = True
                else:
                    q = parsed
                break
            kept.append(piece)
        if bad:
            continue
        parsed_type = _split_type(";".join(kept))
        if parsed_type is None:
            continue
        t, s, params = parsed_type
        ranges.append(MediaRange(t, s, params, q))
    return tuple(ranges)


def _split_offer(offer: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    parsed = _split_type(offer)
    if parsed is None:
        raise ValueError(f"bad offer {offer!r}")
    return parsed


def quality(ranges: Sequence[MediaRange], offer: str) -> float:
    """The q an Accept gives ``offer``: that of the most specific matching range (0 when none)."""
    o = _split_offer(offer)
    best_spec, best_q = -1, 0.0
    for r in ranges:
        if r.matches(o):
            spec = r.specificity
            if spec > best_spec or (spec == best_spec and r.q > best_q):
                best_spec, best_q = spec, r.q
    return best_q


@lru_cache(maxsize=2048)
def negotiate(header: str | None, offers: tuple[str, ...]) -> str | None:
    """The best of ``offers`` (server preference order) for this Accept header, or None (-> 406)."""
    ranges = parse_accept(header)
    best, best_q = None, 0.0
    for offer in offers:
        q = quality(ranges, offer)
        if q > best_q:          # strict: an equal q keeps the earlier (preferred) offer
            best, best_q = offer, q
    return best
