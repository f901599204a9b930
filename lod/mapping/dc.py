"""Dublin Core terms in parallel with CRM, for every core field (docs/mapping.md, right-hand column).

Harvesters and simple clients read dcterms:* without knowing CIDOC-CRM; the values point at the
same IRIs (people, languages, concepts) the CRM side uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyoxigraph as ox

from lod.mapping.namespaces import DCMITYPE, dct, rdfs
from lod.records import Record

if TYPE_CHECKING:
    from lod.mapping import Mapper, Out
    from lod.mapping.crm import Nodes

TEXT = ox.NamedNode(DCMITYPE + "Text")


def map_dc(m: Mapper, out: Out, rec: Record, nodes: Nodes) -> None:
    from lod.mapping import date_literal

    doc = nodes.document
    add = out.add
    if rec.title.strip():
        add(doc, dct.title, ox.Literal(rec.title.strip(), language="en"))
    if rec.date:
        add(doc, dct.date, date_literal(rec.date))
    for a in _unique(nodes.authors):
        add(doc, dct.creator, a)
    for c in _unique(nodes.contributors):
        add(doc, dct.contributor, c)
    for node, _label in nodes.subjects:
        add(doc, dct.subject, node)
    for p in _unique(nodes.people):
        add(doc, dct.subject, p)
    for p in _unique(nodes.places):
        add(doc, dct.spatial, p)
    if rec.summary.strip():
        add(doc, dct.description, ox.Literal(rec.summary.strip(), language="en"))
    for node, _code, _name in nodes.languages:
        add(doc, dct.language, node)
    if rec.rights.strip():
        add(doc, dct.rights, ox.Literal(rec.rights.strip(), language="en"))
    if rec.citation.text.strip():
        add(doc, dct.source, ox.Literal(rec.citation.text.strip()))
        add(doc, dct.bibliographicCitation, ox.Literal(rec.citation.text.strip()))
    add(doc, dct.identifier, ox.Literal(rec.record_id or rec.key))
    add(doc, dct.type, nodes.doc_type)
    add(doc, dct.type, TEXT)
    add(doc, dct.isPartOf, m.dataset)
    if rec.source_url.startswith(("http://", "https://")):
        try:
            add(doc, rdfs.seeAlso, ox.NamedNode(rec.source_url.strip()))
        except ValueError:
            out.warn("source_url", f"not a valid IRI, not published: {rec.source_url!r}")


def _unique(nodes: list[ox.NamedNode]) -> list[ox.NamedNode]:
    seen: set[str] = set()
    out = []
    for n in nodes:
        if n.value not in seen:
            seen.add(n.value)
            out.append(n)
    return out
