"""N-Triples as bytes, one statement a line: what a prepared document's description is made of.

The build writes each record graph as sorted N-Triples lines (``str(quad)``, no blank nodes). Reading
which resources such a graph links to off the lines, and adding the lines of their names, costs a
few regular-expression scans; making a Python object per triple first cost twice the whole request.
In N-Triples an IRI or a blank node label cannot hold a space, so a line splits into subject,
predicate and the rest, and an object that starts with ``<`` is an IRI (a literal starts with ``"``).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

_LABEL_PREDICATES = {b"<http://www.w3.org/2000/01/rdf-schema#label>",
                     b"<http://www.w3.org/2004/02/skos/core#prefLabel>"}


def scan(nt: bytes) -> tuple[set[str], set[str]]:
    """The IRIs in subject or object position (not predicates, not datatypes), and the subjects
    that have an rdfs:label or skos:prefLabel. One split per line: cheaper than a regular expression
    over the whole text, or than parsing."""
    linked: set[bytes] = set()
    labelled: set[bytes] = set()
    for line in nt.split(b"\n"):
        if not line:
            continue
        s, p, o = line.split(b" ", 2)          # "<s>", "<p>", "<o> ." or '"..." .'
        if s[0] == 60:                         # "<": not a blank node
            linked.add(s)
            if p in _LABEL_PREDICATES:
                labelled.add(s)
        if o[0] == 60:
            linked.add(o[:-2])
    return {v[1:-1].decode() for v in linked}, {v[1:-1].decode() for v in labelled}


def of(triples: Iterable[ox.Triple]) -> bytes:
    """N-Triples lines, written as the build writes them (pyoxigraph's term syntax)."""
    return "".join(f"{t} .\n" for t in triples).encode()


def merge(parts: Iterable[bytes]) -> bytes:
    """One sorted set of lines: grouped by subject, IRIs before blank nodes, no statement twice."""
    lines = set(b"".join(parts).split(b"\n"))
    lines.discard(b"")
    return b"\n".join(sorted(lines)) + b"\n" if lines else b""
