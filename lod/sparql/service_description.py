"""SPARQL 1.1 Service Description of /sparql (what a plain GET without a query returns to machines).

States the endpoint, the language (query only: the endpoint is read-only), result formats, features
(union default graph, basic federated query to the allow-list), the limits in force, and the default
dataset: its default graph is the union of all named graphs; the fixed graphs are listed by name, the
record graphs by their IRI pattern and count.
"""

from __future__ import annotations

import pyoxigraph as ox

from lod.config import Settings
from lod.sparql.results import FORMATS

SD = "http://www.w3.org/ns/sparql-service-description#"
FMT = "http://www.w3.org/ns/formats/"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_COMMENT = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
DCT_TITLE = ox.NamedNode("http://purl.org/dc/terms/title")
VOID = "http://rdfs.org/ns/void#"

FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
               "tsv": "SPARQL_Results_TSV", "turtle": "Turtle", "ntriples": "N-Triples", "rdfxml": "RDF_XML",
               "jsonld": "JSON-LD"}
OUT_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "rdfxml": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD,
               "ntriples": ox.RdfFormat.N_TRIPLES}
MEDIA = {"text/turtle": "turtle", "application/rdf+xml": "rdfxml", "application/ld+json": "jsonld",
         "application/n-triples": "ntriples"}


def _sd(local: str) -> ox.NamedNode:
    return ox.NamedNode(SD + local)


def describe(endpoint_url: str, settings: Settings, *, named_graphs: dict[str, str],
             record_graphs: int, allowlist: list[str], triples: int | None = None) -> list[ox.Triple]:
    """The description as triples. ``named_graphs``: fixed graph IRI -> what it holds."""
    svc = ox.NamedNode(endpoint_url + "#service")
    ds = ox.NamedNode(endpoint_url + "#dataset")
    dg = ox.NamedNode(endpoint_url + "#default-graph")
    t = ox.Triple
    out = [
        t(svc, RDF_TYPE, _sd("Service")),
        t(svc, _sd("endpoint"), ox.NamedNode(endpoint_url)),
        t(svc, _sd("supportedLanguage"), _sd("SPARQL11Query")),
        t(svc, _sd("feature"), _sd("UnionDefaultGraph")),
        t(svc, _sd("feature"), _sd("BasicFederatedQuery")),
        t(svc, _sd("defaultEntailmentRegime"), ox.NamedNode("http://www.w3.org/ns/entailment/Simple")),
        t(svc, DCT_TITLE, ox.Literal(f"SPARQL endpoint: {settings.dataset_title}")),
        t(svc, RDFS_COMMENT, ox.Literal(
            f"Read-only (no SPARQL Update). Each query may run {settings.sparql_timeout:g} s and returns at "
            f"most {settings.sparql_max_rows} rows (truncation is flagged by the X-SPARQL-Truncated header). "
            "SERVICE may call only: " + (", ".join(allowlist) or "(no endpoint)") + ". "
            "FROM / FROM NAMED / default-graph-uri / named-graph-uri must name graphs of this dataset.")),
        t(svc, _sd("defaultDataset"), ds),
        t(ds, RDF_TYPE, _sd("Dataset")),
        t(ds, ox.NamedNode(VOID + "uriSpace"), ox.Literal(settings.base_uri + "id/")),
        t(ds, _sd("defaultGraph"), dg),
        t(dg, RDF_TYPE, _sd("Graph")),
        t(dg, RDFS_COMMENT, ox.Literal(
            "The union of all named graphs of the dataset: every record graph plus the graphs listed as "
            f"named graphs below. The {record_graphs} record graphs are named "
            f"{settings.base_uri}graph/document/{{record key}}.")),
    ]
    if triples is not None:
        out.append(t(dg, ox.NamedNode(VOID + "triples"), ox.Literal(str(triples), datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer"))))
    for f in FORMATS:
        out.append(t(svc, _sd("resultFormat"), ox.NamedNode(FMT + FORMAT_IRIS[f.key])))
    for i, (iri, what) in enumerate(sorted(named_graphs.items())):
        ng = ox.NamedNode(f"{endpoint_url}#named-graph-{i}")
        g = ox.NamedNode(f"{endpoint_url}#graph-{i}")
        out += [t(ds, _sd("namedGraph"), ng), t(ng, RDF_TYPE, _sd("NamedGraph")),
                t(ng, _sd("name"), ox.NamedNode(iri)), t(ng, _sd("graph"), g), t(g, RDF_TYPE, _sd("Graph")),
                t(g, RDFS_COMMENT, ox.Literal(what))]
    return out


def serialise(triples: list[ox.Triple], fmt: str) -> bytes:
    prefixes = {"sd": SD, "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "dcterms": "http://purl.org/dc/terms/",
                "void": VOID, "formats": FMT} if fmt in ("turtle", "rdfxml") else None
    return ox.serialize(triples, format=OUT_FORMATS[fmt], prefixes=prefixes) or b""
