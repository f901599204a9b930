"""What a dereferenced IRI returns: the description of one resource, as a list of triples.

The description of a thing (docs/uris.md, "Dereferencing"):

* a **document**: every triple of its record graph (which is self-contained: stubs of the people,
  places and organisations it uses);
* anything else: every triple about it, in any graph (authority, enrichment, ontology, records);
* the **blank-node closure** of all that;
* the **labels** (rdfs:label, skos:prefLabel; from the ontology only English) of every linked
  resource, the ``owl:sameAs`` of our people/places/organisations and the life dates
  (wdt:P569/P570, enrichment graph) of linked Wikidata items;
* **inverse links**: the documents whose record graph points at the thing (a person referred to,
  present, author...), ordered by document date then IRI, ``page_size`` documents per page with
  ``hydra:next``/``hydra:previous`` and ``hydra:totalItems``, so no value silently disappears.
  Incoming links from graphs other than record graphs (authority, ontology) come on page 1, whole;
* the document's own metadata: ``foaf:primaryTopic`` of the thing, licence, modification date.

Speed: a document's record graph is read from the build's prepared file (lod.oai.prepared: the
N-Triples the build wrote, 0.4 ms against 1.7 ms for decoding the statements from the store); the
names, ``owl:sameAs`` and life dates of the resources it links to come from the build's names table
(lod.naming), which keeps RocksDB's caches out of the document path; the rest are direct pattern
lookups on the store (``quads_for_pattern``; lod.remote_quads for a remote store), no SPARQL. Names,
which recur in every description, are kept per build. A document's description is put together as N-Triples lines
(lod.nt_lines), never as one Python object per triple.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
import zstandard

from lod import naming, nt_lines
from lod.mapping.namespaces import CRM, DCT, XSD
from lod.naming import LABELS, LIFE_DATES, SAME_AS, WIKIDATA
from lod.render import FOAF, HYDRA, RDF_TYPE, VOID
from lod.uris import Minter

if TYPE_CHECKING:
    from lod.oai.prepared import PreparedFiles

DATE = ox.NamedNode(DCT + "date")
TITLE = ox.NamedNode(DCT + "title")
TYPE = ox.NamedNode(RDF_TYPE)
HAS_TYPE = ox.NamedNode(CRM + "P2_has_type")


@dataclass
class Description:
    thing: str
    kind: str                      # "document", "person", ..., "vocab"
    doc_url: str                   # the data document (page 1, negotiated)
    page_url: str                  # this page's URL (doc_url, or doc_url?page=N)
    parsed: list[ox.Triple] | None = None
    page: int = 1
    pages: int = 1
    total_inverse: int = 0         # documents linking here, over all pages
    inverse_docs: list[str] = field(default_factory=list)   # the documents on this page, in order
    turtle: bytes | None = None    # the description as Turtle, when the build wrote it (lod.described)
    nt_zst: bytes | None = None    # and its N-Triples, compressed: read only for the other formats
    _nt: bytes | None = field(default=None, repr=False)

    @property
    def nt(self) -> bytes | None:
        """The same triples as sorted N-Triples lines, when described from them (or kept by the build)."""
        if self._nt is None and self.nt_zst is not None:
            self._nt = zstandard.decompress(self.nt_zst)
        return self._nt

    @nt.setter
    def nt(self, value: bytes | None) -> None:
        self._nt = value

    @property
    def triples(self) -> list[ox.Triple]:
        if self.parsed is None:
            self.parsed = [q.triple for q in ox.parse(self.nt or b"", ox.RdfFormat.N_TRIPLES)]
        return self.parsed

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def prev_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


def page_url(doc_url: str, page: int) -> str:
    return doc_url if page == 1 else f"{doc_url}?page={page}"


class Describer(naming.NameLookups):
    """Describes things of one store; stateless apart from the store handle and settings."""

    def __init__(self, store: Any, minter: Minter, *, licence: str, page_size: int = 100,
                 prepared: PreparedFiles | None = None) -> None:
        self.store = store
        self.prepared = prepared
        self.minter = minter
        self.licence = licence
        self.page_size = max(1, page_size)
        base = minter.base
        self.record_graph_prefix = f"{base}graph/document/"
        self.ontology_graph = minter.ontology_graph
        # Graphs that describe a resource once. A person is also labelled in every record graph that
        # mentions them, so looking a label up across all graphs costs one quad per such record.
        self.naming_graphs = tuple(ox.NamedNode(g) for g in (minter.authority_graph, minter.ontology_graph,
                                                               minter.enrichment_graph))
        self.authority_node = ox.NamedNode(minter.authority_graph)
        # names of the same few hundred classes, terms and people recur in every description; they only
        # change with a new build, so they are cached per build (bounded: cleared when full)
        self._names: dict[tuple[str, tuple[ox.NamedNode, ...]], list[Any]] = {}
        self._names_build: object = None
        self.entity_prefixes = naming.entity_prefixes(base)
        self.ids = f"{base}id/"
        self.document_prefix = f"{base}id/document/"
        self._last_kept: dict[str, tuple[object, str, Any]] = {}    # what -> (build, IRI, found): see _kept

    # ---------------------------------------------------------------- store access
    def quads(self, s: Any = None, p: Any = None, o: Any = None, g: Any = None) -> Iterator[ox.Quad]:
        # pyoxigraph's store, or a remote store's lod.remote_quads.RemoteQuads (same interface)
        return self.store.oxigraph.quads_for_pattern(s, p, o, g)

    # ---------------------------------------------------------------- naming
    def kind_of(self, iri: str) -> str | None:
        base = self.minter.base
        if iri.startswith(base + "vocab/"):
            return "vocab"
        if iri.startswith(base + "id/"):
            kind = iri[len(base) + 3:].split("/", 1)[0]
            return kind or None
        return None

    def doc_url(self, iri: str) -> str:
        base = self.minter.base
        if iri.startswith(base + "vocab/"):
            return base + "data/" + iri[len(base):].rstrip("/")    # {base}vocab/ -> {base}data/vocab
        return self.minter.data_document(iri)

    def thing_of(self, doc_path: str) -> str:
        """Thing IRI for a data-document path relative to base ('data/person/x' -> '{base}id/person/x')."""
        rest = doc_path[len("data/"):]
        if rest == "vocab":
            return self.minter.base + "vocab/"
        return self.minter.base + (rest if rest.startswith("vocab/") else "id/" + rest)

    def document_of_graph(self, graph: str) -> str | None:
        if graph.startswith(self.record_graph_prefix):
            return self.minter.base + "id/document/" + graph[len(self.record_graph_prefix):]
        return None

    # ---------------------------------------------------------------- describing
    def exists(self, iri: str) -> bool:
        try:
            node = ox.NamedNode(iri)
        except ValueError:            # not an IRI at all (bad percent-encoding, spaces...): unknown
            return False
        if self._described(iri) or self._prepared_nt(iri):
            return True
        return next(iter(self.quads(node)), None) is not None

    def describe(self, iri: str, page: int = 1, *, meta: dict[str, str] | None = None) -> Description | None:
        """The description of ``iri`` (page ``page`` of its inverse links); None when unknown (404)."""
        node = ox.NamedNode(iri)
        kind = self.kind_of(iri)
        done = self._described(iri) if kind == "document" else None
        if done:                          # described by the build: Turtle, and N-Triples for the other formats
            doc_url = self.doc_url(iri)
            return Description(thing=iri, kind=kind, doc_url=doc_url, page_url=doc_url, nt_zst=done[0],
                               turtle=done[1]) if page == 1 else None
        out: dict[ox.Triple, None] = {}   # ordered set
        nt = self._prepared_nt(iri) if kind == "document" else None
        if nt:
            return self._describe_lines(iri, nt, meta or {}) if page == 1 else None
        own = list(self.quads(node))
        if kind is None or not own or page < 1 or (kind == "document" and page > 1):
            return None
        if kind == "document":
            graph = ox.NamedNode(self.record_graph_prefix + iri[len(self.document_prefix):])
            record = list(self.quads(None, None, None, graph))
            self._add(out, record or own)
        else:
            self._add(out, own)
        self._closure(out)

        doc_url = self.doc_url(iri)
        desc = Description(thing=iri, kind=kind, doc_url=doc_url, page_url=page_url(doc_url, page), page=page)
        if kind != "document":
            if not self._inverse(node, page, out, desc):
                return None
        self._labels(out, iri[len(self.document_prefix):] if kind == "document" else None)
        self._metadata(out, desc, meta or {})
        desc.parsed = list(out)
        return desc

    def _describe_lines(self, iri: str, nt: bytes, meta: dict[str, str]) -> Description:
        """A document described from its prepared record graph without making a Python object per
        triple: the same triples as :meth:`describe` (labels, links, metadata), as sorted N-Triples
        lines; the linked resources are read off the lines (lod.nt_lines). Half the CPU of the
        object path, which was most of an uncached request."""
        key = iri[len(self.document_prefix):]
        ids = self.ids
        linked, labelled = nt_lines.scan(nt)
        wanted: list[tuple[str, str, Any]] = []
        for v in linked:
            entity = v.startswith(self.entity_prefixes)
            if v not in labelled and not _minted_for(v, ids, key):
                local = v.startswith(ids) and not entity
                wanted.append((v, "labels", self._local_labels if local else self._label_triples))
            if entity or v.startswith(WIKIDATA):
                wanted.append((v, "links", self._link_triples))
        self._from_table([(v, what) for v, what, lookup in wanted if lookup is not self._local_labels])
        found: list[bytes] = [nt]
        found += [self._memo_lines(v, what, lookup) for v, what, lookup in wanted]
        doc_url = self.doc_url(iri)
        desc = Description(thing=iri, kind="document", doc_url=doc_url, page_url=doc_url)
        extra: dict[ox.Triple, None] = {}
        self._metadata(extra, desc, meta)
        found.append(nt_lines.of(extra))
        desc.nt = nt_lines.merge(found)
        return desc

    def _described(self, iri: str) -> tuple[bytes, bytes] | None:
        """The description the build kept for this document (lod.described), if any."""
        return self._kept(iri, "described")

    def _prepared_nt(self, iri: str) -> bytes | None:
        """The document's record graph as the build wrote it (lod.oai.prepared), if any."""
        return self._kept(iri, "graph")

    def _kept(self, iri: str, what: str) -> Any:
        """What the build kept beside the store for a document: its ``described`` description or its
        record ``graph``; None when it kept nothing for it or the file is damaged (described from the
        store instead). The last one read is remembered: exists() then describe() read once."""
        if self.prepared is None or not iri.startswith(self.document_prefix):
            return None
        build = getattr(self.store, "build", None)
        last = self._last_kept.get(what)
        if last is not None and last[0] is build and last[1] == iri:
            return last[2]
        key = iri[len(self.document_prefix):]
        try:
            if what == "described":
                described = self.prepared.described(self.store)
                found = described.get(key) if described is not None else None
            else:
                files = self.prepared.of(self.store)
                found = files.graph(key) if files is not None else None
        except Exception:  # noqa: BLE001 - a damaged file: described from the store instead
            return None
        self._last_kept[what] = (build, iri, found)
        return found

    def _add(self, out: dict[ox.Triple, None], quads: Iterable[ox.Quad]) -> None:
        for q in quads:
            out.setdefault(q.triple, None)

    def _closure(self, out: dict[ox.Triple, None]) -> None:
        """Add the description of every blank node reachable from what we have (cycles are fine)."""
        seen: set[ox.BlankNode] = set()
        todo = [t.object for t in out if isinstance(t.object, ox.BlankNode)]
        while todo:
            b = todo.pop()
            if b in seen:
                continue
            seen.add(b)
            for q in self.quads(b):
                out.setdefault(q.triple, None)
                if isinstance(q.object, ox.BlankNode):
                    todo.append(q.object)

    def _labels(self, out: dict[ox.Triple, None], record: str | None = None) -> None:
        """Labels (and owl:sameAs of our people/places/orgs, life dates of Wikidata items) of every
        linked resource; what one resource brings is looked up once per build. ``record``: the key
        of the document described, whose whole graph is in ``out``: the things minted for it
        ({kind}/{key} or {kind}/{key}-...) have no statements elsewhere, so they are not looked up."""
        have_label = {t.subject for t in out if t.predicate in LABELS}
        linked = {t.object for t in out if isinstance(t.object, ox.NamedNode)}
        linked |= {t.subject for t in out if isinstance(t.subject, ox.NamedNode)}
        ids = self.ids
        for r in sorted(linked, key=lambda n: n.value):
            v = r.value
            entity = v.startswith(self.entity_prefixes)
            if r not in have_label and not (record and _minted_for(v, ids, record)):
                # things of one record (its creation, time-span...) are not kept: they would crowd out
                # the people, places and terms that recur in every description
                local = v.startswith(ids) and not entity
                found = self._local_labels(r) if local else self._memo(r, LABELS, self._label_triples)
                out.update(dict.fromkeys(found))
            if entity or v.startswith(WIKIDATA):
                out.update(dict.fromkeys(self._memo(r, (SAME_AS, *LIFE_DATES), self._link_triples)))

    def _inverse(self, node: ox.NamedNode, page: int, out: dict[ox.Triple, None], desc: Description) -> bool:
        """Add page ``page`` of the documents linking to ``node``; False when that page does not exist."""
        by_doc: dict[str, list[ox.Quad]] = {}
        for q in self.quads(None, None, node):
            doc = self.document_of_graph(q.graph_name.value) if isinstance(q.graph_name, ox.NamedNode) else None
            if doc is None:
                if page == 1:
                    out.setdefault(q.triple, None)
                continue
            by_doc.setdefault(doc, []).append(q)
        desc.total_inverse = len(by_doc)
        desc.pages = max(1, -(-len(by_doc) // self.page_size))
        if page > desc.pages:
            return False
        order = sorted(by_doc, key=lambda d: (self._date(d, by_doc[d][0].graph_name), d))
        chosen = order[(page - 1) * self.page_size: page * self.page_size]
        desc.inverse_docs = chosen
        for doc in chosen:
            quads = by_doc[doc]
            graph = quads[0].graph_name
            dnode = ox.NamedNode(doc)
            for q in quads:
                out.setdefault(q.triple, None)
                if q.subject != dnode and q.subject != node:
                    # how the document reaches the intermediate node (its conversation, its creation)
                    self._add(out, self.quads(dnode, None, q.subject, graph))
                    self._add(out, self.quads(q.subject, None, dnode, graph))
                    for p in (TYPE, HAS_TYPE):
                        self._add(out, self.quads(q.subject, p, None, graph))
            for p in (*LABELS, TITLE, DATE, TYPE):
                self._add(out, self.quads(dnode, p, None, graph))
        return True

    def _date(self, doc: str, graph: Any) -> str:
        for q in self.quads(ox.NamedNode(doc), DATE, None, graph):
            return q.object.value
        return "~"     # undated documents last

    def _metadata(self, out: dict[ox.Triple, None], desc: Description, meta: dict[str, str]) -> None:
        page = ox.NamedNode(desc.page_url)
        dataset = ox.NamedNode(self.minter.dataset)
        licence = ox.NamedNode(self.licence)
        add = out.setdefault
        add(ox.Triple(page, TYPE, ox.NamedNode(FOAF + "Document")), None)
        add(ox.Triple(page, ox.NamedNode(FOAF + "primaryTopic"), ox.NamedNode(desc.thing)), None)
        add(ox.Triple(page, ox.NamedNode(DCT + "license"), licence), None)
        add(ox.Triple(page, ox.NamedNode(VOID + "inDataset"), dataset), None)
        add(ox.Triple(dataset, TYPE, ox.NamedNode(VOID + "Dataset")), None)
        add(ox.Triple(dataset, ox.NamedNode(DCT + "license"), licence), None)
        built = meta.get("built_at")
        if built:
            stamp = ox.Literal(built, datatype=ox.NamedNode(XSD + "dateTime"))
            add(ox.Triple(page, ox.NamedNode(DCT + "modified"), stamp), None)
            add(ox.Triple(dataset, ox.NamedNode(DCT + "modified"), stamp), None)
        if desc.kind != "document":
            add(ox.Triple(page, ox.NamedNode(HYDRA + "totalItems"),
                          ox.Literal(str(desc.total_inverse), datatype=ox.NamedNode(XSD + "integer"))), None)
        if desc.page > 1:
            add(ox.Triple(page, ox.NamedNode(DCT + "isPartOf"), ox.NamedNode(desc.doc_url)), None)
        if desc.next_page:
            add(ox.Triple(page, ox.NamedNode(HYDRA + "next"),
                          ox.NamedNode(page_url(desc.doc_url, desc.next_page))), None)
        if desc.prev_page:
            add(ox.Triple(page, ox.NamedNode(HYDRA + "previous"),
                          ox.NamedNode(page_url(desc.doc_url, desc.prev_page))), None)


def _minted_for(iri: str, ids: str, key: str) -> bool:
    """Whether ``iri`` is one of the things minted for record ``key`` (not another document)."""
    kind, _, local = iri[len(ids):].partition("/") if iri.startswith(ids) else ("", "", "")
    return bool(kind) and kind != "document" and (local == key or local.startswith(key + "-"))
