"""CIDOC-CRM 7.1.3 side of the mapping (the table in docs/mapping.md, row by row).

Roles that CRM can only express with properties of properties (P14.1 in the role of) are modelled
as activities typed by a role term instead, the pattern Linked Art uses: e.g. "To Cde. D.T. Shepilov"
becomes an E7_Activity {key}-addressee, crm:P2_has_type vocab/role/addressee,
crm:P11_had_participant Shepilov, crm:P16_used_specific_object the document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from lod.mapping import namespaces as ns
from lod.mapping.namespaces import E22_OBJECT, E52_TIME_SPAN, LABEL, P4_TIME_SPAN, TYPE, crm
from lod.mapping.vocab import known_terms
from lod.records import Record
from lod.uris import slugify

if TYPE_CHECKING:
    from lod.mapping import Mapper, Out

CITATION_PARTS = ("fond", "opis", "papka", "delo", "list", "pages", "year", "file")
ROLE_LABELS = {
    "addressee": "Sending to the addressees of", "copy-recipient": "Sending copies of",
    "drafter": "Drafting of", "typist": "Typing of", "filer": "Filing of", "obtainer": "Obtaining of",
    "transcriber": "Transcription of", "contributor": "Contribution to", "funder": "Funding the publication of",
    "present": "Attendance at the conversation recorded in",
}
_TO_FILE = re.compile(r"^(?:\d+\s*-\s*)?(?:to\s+)?(?:the\s+)?file$", re.I)


@dataclass
class Nodes:
    """What the CRM side minted and resolved, handed to the Dublin Core side and the catalog."""

    document: ox.NamedNode
    physical: ox.NamedNode
    doc_type: ox.NamedNode
    authors: list[ox.NamedNode] = field(default_factory=list)
    contributors: list[ox.NamedNode] = field(default_factory=list)
    people: list[ox.NamedNode] = field(default_factory=list)
    places: list[ox.NamedNode] = field(default_factory=list)
    subjects: list[tuple[ox.NamedNode, str]] = field(default_factory=list)
    languages: list[tuple[ox.NamedNode, str | None, str]] = field(default_factory=list)
    archive: tuple[ox.NamedNode, Any] | None = None


def _en(text: str) -> ox.Literal:
    return ox.Literal(text, language="en")


def _timespan(m: Mapper, out: Out, owner: ox.NamedNode, key: str, role: str, iso: str, field_name: str) -> None:
    from lod.mapping import span_literals

    begin, end = span_literals(iso, record=key, field_name=field_name)
    ts = ox.NamedNode(m.minter.timespan(key, role))
    out.add(owner, P4_TIME_SPAN, ts)
    out.add(ts, TYPE, E52_TIME_SPAN)
    out.add(ts, LABEL, ox.Literal(iso))
    out.add(ts, crm.P82a_begin_of_the_begin, begin)
    out.add(ts, crm.P82b_end_of_the_end, end)


def _identifier(m: Mapper, out: Out, owner: ox.NamedNode, key: str, id_type: str, value: str,
                local: str | None = None) -> ox.NamedNode:
    node = ox.NamedNode(m.minter.identifier(key, local or id_type))
    out.add(owner, crm.P1_is_identified_by, node)
    out.add(node, TYPE, crm.E42_Identifier)
    out.add(node, crm.P190_has_symbolic_content, ox.Literal(value))
    out.add(node, crm.P2_has_type, m.term("identifier-type", id_type))
    return node


def _role(m: Mapper, out: Out, rec: Record, role: str, names: list[str], field_name: str, *,
          passive: bool = False, local: str | None = None, used: ox.NamedNode | None = None, part_of: ox.NamedNode | None = None,
          referred: list[ox.NamedNode] | None = None) -> tuple[ox.NamedNode | None, list[ox.NamedNode]]:
    """One activity typed by ``role``; its people are P14 carried out by (or P11 participants if passive)."""
    actors = []
    for i, name in enumerate(names):
        fname = f"{field_name}[{i}]"
        if _TO_FILE.match(name.strip()):
            continue        # "2- to file": a copy kept on file, not a person (kept as a note below)
        hit = m.actor(out, name, fname)
        if hit:
            actors.append(hit[0])
        else:
            place = m.entity(out, name, fname)
            if referred is not None and place:
                referred.append(place[0])
    notes = [n for n in names if _TO_FILE.match(n.strip())]
    if not actors and not notes:
        return None, actors
    act = ox.NamedNode(m.minter.thing("event", f"{rec.key}-{local or role}"))
    out.add(act, TYPE, crm.E7_Activity)
    out.add(act, crm.P2_has_type, m.term("role", role))
    out.add(act, LABEL, _en(f"{ROLE_LABELS.get(role, role.capitalize())} document {rec.key}"))
    prop = crm.P11_had_participant if passive else crm.P14_carried_out_by
    for a in actors:
        out.add(act, prop, a)
    for n in notes:
        out.add(act, crm.P3_has_note, _en(f"a copy was sent {n.strip()}"))
    if used is not None:
        out.add(act, crm.P16_used_specific_object, used)
    if part_of is not None:
        out.add(part_of, crm.P9_consists_of, act)
    return act, actors


def map_crm(m: Mapper, out: Out, rec: Record) -> Nodes:
    key = rec.key
    mint = m.minter
    doc = ox.NamedNode(mint.document(key))
    obj = ox.NamedNode(mint.physical(key))
    doc_type_local = slugify(rec.doc_type) if rec.doc_type else "document"
    if doc_type_local not in known_terms().get("document-type", ()):
        out.warn("doc_type", f"document type {rec.doc_type!r} is not in ontology/vocab.ttl")
    nodes = Nodes(document=doc, physical=obj, doc_type=m.term("document-type", doc_type_local))
    add = out.add
    referred: list[ox.NamedNode] = []

    # the document: E31 Document and E33 Linguistic Object
    add(doc, TYPE, crm.E31_Document)
    add(doc, TYPE, crm.E33_Linguistic_Object)
    add(doc, crm.P2_has_type, nodes.doc_type)
    if rec.title.strip():
        title = _en(rec.title.strip())
        add(doc, LABEL, title)
        t = ox.NamedNode(mint.title(key))
        add(doc, crm.P102_has_title, t)
        add(t, TYPE, crm.E35_Title)
        add(t, crm.P190_has_symbolic_content, title)
    if rec.summary.strip():
        add(doc, crm.P3_has_note, _en(rec.summary.strip()))

    # identifiers of the document (the text); the archival reference identifies the physical original
    if rec.record_id:
        _identifier(m, out, doc, key, "record-id", rec.record_id)
    if rec.slug:
        _identifier(m, out, doc, key, "slug", rec.slug)
    if rec.entry_number:
        _identifier(m, out, doc, key, "journal-number", rec.entry_number)
    if rec.outgoing_number:
        _identifier(m, out, doc, key, "outgoing-number", rec.outgoing_number)
    for i, num in enumerate(rec.incoming_numbers):
        _identifier(m, out, doc, key, "incoming-number", num, local=f"incoming-number-{i + 1}")

    # creation: author(s), date, drafting and typing as parts of it
    creation = ox.NamedNode(mint.creation(key))
    add(doc, crm.P94i_was_created_by, creation)
    add(creation, TYPE, crm.E65_Creation)
    add(creation, LABEL, _en(f"Creation of document {key}"))
    for i, name in enumerate(rec.authors):
        hit = m.actor(out, name, f"authors[{i}]")
        if hit:
            add(creation, crm.P14_carried_out_by, hit[0])
            nodes.authors.append(hit[0])
        elif (place := m.entity(out, name, f"authors[{i}]")):
            referred.append(place[0])
    if rec.date:
        _timespan(m, out, creation, key, "created", rec.date, "date")
    contributors = nodes.contributors
    for role, names, fname in (("drafter", rec.drafted_by, "drafted_by"), ("typist", rec.typed_by, "typed_by")):
        contributors += _role(m, out, rec, role, names, fname, part_of=creation, used=doc, referred=referred)[1]

    # the conversation the document records
    conv = rec.conversation
    if conv and (conv.date or conv.participants or conv.present or conv.place or conv.description):
        ev = ox.NamedNode(mint.conversation(key))
        add(doc, crm.P70_documents, ev)
        add(ev, TYPE, crm.E7_Activity)
        add(ev, crm.P2_has_type, m.term("event-type", "conversation"))
        add(ev, LABEL, _en(f"Conversation of {conv.date}" if conv.date else f"Conversation in document {key}"))
        if conv.description.strip():
            add(ev, crm.P3_has_note, _en(conv.description.strip()))
        for i, name in enumerate(conv.participants):
            hit = m.actor(out, name, f"conversation.participants[{i}]")
            if hit:
                add(ev, crm.P11_had_participant, hit[0])
        for person in _role(m, out, rec, "present", conv.present, "conversation.present", passive=True,
                            part_of=ev, referred=referred)[1]:
            add(ev, crm.P11_had_participant, person)
        if conv.date:
            _timespan(m, out, ev, key, "conversation", conv.date, "conversation.date")
        if conv.place.strip() and (hit := m.entity(out, conv.place, "conversation.place", kind="place")):
            if hit[1].kind == "place":
                add(ev, crm.P7_took_place_at, hit[0])
            else:
                referred.append(hit[0])

    # journal / diary entry: its date (the entry number is an identifier of the document)
    if rec.entry_date:
        entry = ox.NamedNode(mint.thing("event", f"{key}-journal-entry"))
        add(entry, TYPE, crm.E7_Activity)
        add(entry, crm.P2_has_type, m.term("event-type", "journal-entry"))
        add(entry, LABEL, _en(f"Journal entry of document {key}"))
        add(entry, crm.P16_used_specific_object, doc)
        _timespan(m, out, entry, key, "entry", rec.entry_date, "entry_date")

    # addressees, copies, filing, obtaining, transcription, contribution, funding
    _role(m, out, rec, "addressee", rec.addressees, "addressees", passive=True, used=doc, referred=referred)
    _role(m, out, rec, "copy-recipient", rec.copies_sent, "copies_sent", passive=True, used=doc,
          referred=referred)
    filing = _role(m, out, rec, "filer", rec.filed_by, "filed_by", used=obj, referred=referred)[0]
    if rec.filed_date:
        if filing is None:
            filing = ox.NamedNode(mint.thing("event", f"{key}-filer"))
            add(filing, TYPE, crm.E7_Activity)
            add(filing, LABEL, _en(f"Filing of document {key}"))
            add(filing, crm.P2_has_type, m.term("role", "filer"))
            add(filing, crm.P16_used_specific_object, obj)
        _timespan(m, out, filing, key, "filed", rec.filed_date, "filed_date")
    for role, names, fname in (("obtainer", rec.obtained_by, "obtained_by"),
                               ("transcriber", rec.transcribed_by, "transcribed_by"),
                               ("contributor", rec.contributed_by, "contributed_by"),
                               ("contributor", rec.contributors, "contributors")):
        contributors += _role(m, out, rec, role, names, fname, used=doc, referred=referred,
                              local=fname.replace("_", "-"))[1]
    funding = _role(m, out, rec, "funder", rec.funders, "funders", used=doc, referred=referred)[0]
    if rec.credits.strip():
        if funding is None:
            funding = ox.NamedNode(mint.thing("event", f"{key}-funder"))
            add(funding, TYPE, crm.E7_Activity)
            add(funding, LABEL, _en(f"Funding the publication of document {key}"))
            add(funding, crm.P2_has_type, m.term("role", "funder"))
            add(funding, crm.P16_used_specific_object, doc)
        add(funding, crm.P3_has_note, _en(rec.credits.strip()))

    # languages; the translation is its own E33 created by the translator
    for i, name in enumerate(rec.original_language):
        node, code = m.language(out, name, f"original_language[{i}]")
        add(doc, crm.P72_has_language, node)
        nodes.languages.append((node, code, name))
    body = rec.body.strip()
    if rec.translation_language or rec.translated_by:
        lang_name = rec.translation_language or "English"
        lang, code = m.language(out, lang_name, "translation_language")
        tr = ox.NamedNode(mint.translation(key, code or lang_name))
        add(doc, crm.P73_has_translation, tr)
        add(tr, TYPE, crm.E33_Linguistic_Object)
        add(tr, crm.P2_has_type, m.term("document-type", "translation"))
        add(tr, LABEL, _en(f"{lang_name.strip().capitalize()} translation of document {key}"))
        add(tr, crm.P72_has_language, lang)
        if body:
            add(tr, crm.P190_has_symbolic_content, ox.Literal(body, language=code) if code else ox.Literal(body))
        trc = ox.NamedNode(mint.creation(f"{key}-translation-{code or slugify(lang_name)}"))
        add(tr, crm.P94i_was_created_by, trc)
        add(trc, TYPE, crm.E65_Creation)
        add(trc, crm.P2_has_type, m.term("event-type", "translation"))
        add(trc, LABEL, _en(f"Translation of document {key}"))
        for i, name in enumerate(rec.translated_by):
            hit = m.actor(out, name, f"translated_by[{i}]")
            if hit:
                add(trc, crm.P14_carried_out_by, hit[0])
                contributors.append(hit[0])
    elif body:
        codes = [c for _n, c, _name in nodes.languages]
        code = codes[0] if len(codes) == 1 else None
        add(doc, crm.P190_has_symbolic_content, ox.Literal(body, language=code) if code else ox.Literal(body))

    # the physical original: carries the text, kept by the archive, identified by the archival reference
    add(obj, TYPE, E22_OBJECT)
    add(obj, LABEL, _en(f"Physical original of document {key}"))
    add(obj, crm.P128_carries, doc)
    cit = rec.citation
    archive_name = (cit.archive or cit.archive_abbrev).strip()
    if archive_name:
        hit = m.entity(out, archive_name, "citation.archive", kind="organization", default_kind="organization")
        if hit and hit[1].kind in ("organization", "person"):
            add(obj, crm.P50_has_current_keeper, hit[0])
            nodes.archive = hit
        elif hit:
            referred.append(hit[0])
    parts = [(p, getattr(cit, p).strip()) for p in CITATION_PARTS if getattr(cit, p).strip()]
    if cit.text.strip() or parts:
        text = cit.text.strip() or ", ".join(f"{p} {v}" for p, v in parts)
        ref = _identifier(m, out, obj, key, "archival-reference", text)
        for p, v in parts:
            part = ox.NamedNode(mint.identifier(key, f"archival-reference-{p}"))
            add(ref, crm.P106_is_composed_of, part)
            add(part, TYPE, crm.E42_Identifier)
            add(part, crm.P190_has_symbolic_content, ox.Literal(v))
            add(part, crm.P2_has_type, m.term("identifier-type", p))
    if rec.copy_number:
        _identifier(m, out, obj, key, "copy-number", rec.copy_number)
    if rec.classification.strip():
        add(obj, crm.P2_has_type, m.concept(out, "classification", rec.classification.strip()))

    # what the document refers to: people/organisations listed, places, subjects, mentions in text
    for i, name in enumerate(rec.people):
        if (hit := m.entity(out, name, f"people[{i}]", default_kind="person")):
            nodes.people.append(hit[0])
            referred.append(hit[0])
    for i, name in enumerate(rec.places):
        if (hit := m.entity(out, name, f"places[{i}]", kind="place", default_kind="place")):
            nodes.places.append(hit[0])
            referred.append(hit[0])
    for text in (rec.summary, rec.body):
        for ent in m.mentions(text):
            node = m.node_of(ent)
            out.entities.setdefault(node.value, (node, ent))
            referred.append(node)
    seen: set[str] = set()
    for node in referred:
        if node.value not in seen:
            seen.add(node.value)
            add(doc, crm.P67_refers_to, node)
    for s in rec.subjects:
        if s.strip():
            c = m.concept(out, "subject", s.strip())
            add(doc, crm.P129_is_about, c)
            nodes.subjects.append((c, s.strip()))
    return nodes


def record_sets(m: Mapper, out: Out, rec: Record, nodes: Nodes) -> dict[str, str]:
    """OAI-PMH sets of a record: archive:<entity id>, language:<code>, subject:<slug>, with names."""
    sets: dict[str, str] = {}
    if nodes.archive:
        ent = nodes.archive[1]
        sets[f"archive:{ent.id}"] = ent.label
    for _node, code, name in nodes.languages:
        sets[f"language:{code or slugify(name)}"] = name.strip()
    for _node, label in nodes.subjects:
        sets[f"subject:{slugify(label)}"] = label
    return sets


__all__ = ["map_crm", "record_sets", "Nodes", "ns"]
