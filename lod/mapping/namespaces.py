"""Namespaces and pre-built pyoxigraph terms for the mapping hot path.

Building a ``NamedNode`` validates its IRI; the mapping emits millions of quads, so every fixed
term (classes, properties, datatypes) is built once here and shared.
"""

from __future__ import annotations

import pyoxigraph as ox

CRM = "http://www.cidoc-crm.org/cidoc-crm/"
DCT = "http://purl.org/dc/terms/"
DCMITYPE = "http://purl.org/dc/dcmitype/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
WD = "http://www.wikidata.org/entity/"

PREFIXES = {"crm": CRM, "dcterms": DCT, "dcmitype": DCMITYPE, "rdf": RDF, "rdfs": RDFS, "owl": OWL,
            "prov": PROV, "skos": SKOS, "xsd": XSD, "wd": WD}

# The placeholder base that ontology/vocab.ttl is written with; the build rewrites it.
PLACEHOLDER_BASE = "http://lod.placeholder.invalid/"


class _NS:
    """Attribute access to cached NamedNodes: ``C.E31_Document``; odd names via ``C["P4_has_time-span"]``."""

    def __init__(self, base: str) -> None:
        self._base = base
        self._cache: dict[str, ox.NamedNode] = {}

    def __getitem__(self, local: str) -> ox.NamedNode:
        node = self._cache.get(local)
        if node is None:
            node = self._cache[local] = ox.NamedNode(self._base + local)
            if local.isidentifier():
                object.__setattr__(self, local, node)   # later ``ns.X`` skips __getattr__
        return node

    def __getattr__(self, local: str) -> ox.NamedNode:
        if local.startswith("_"):
            raise AttributeError(local)
        return self[local]


crm = _NS(CRM)
dct = _NS(DCT)
rdf = _NS(RDF)
rdfs = _NS(RDFS)
owl = _NS(OWL)
prov = _NS(PROV)
skos = _NS(SKOS)
xsd = _NS(XSD)

TYPE = rdf.type
LABEL = rdfs.label

# CRM properties whose local names are not Python identifiers.
P4_TIME_SPAN = crm["P4_has_time-span"]
E52_TIME_SPAN = crm["E52_Time-Span"]
E22_OBJECT = crm["E22_Human-Made_Object"]
