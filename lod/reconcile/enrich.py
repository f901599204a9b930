"""Enrichment: what pages and SPARQL need from Wikidata, stored locally with provenance.

For every published QID: labels in en/zh/ru, birth and death dates (wdt:P569/P570 at their real
precision: xsd:date, xsd:gYearMonth or xsd:gYear), an image (P18, as a Commons file path) and
Wikipedia articles. Each item says which answer it came from and when that answer was retrieved
(PROV-O). The build loads the file into the enrichment named graph, so "Liu Shaoqi (1898–1969)"
needs no call to Wikidata at request time.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import FOAF, PROV, RDF, RDFS, XSD

from lod import __version__
from lod.reconcile import WIKIDATA_ENTITY, wdjson
from lod.reconcile.client import WikidataClient

WD = Namespace(WIKIDATA_ENTITY)
WDT = Namespace("http://www.wikidata.org/prop/direct/")
DCT = Namespace("http://purl.org/dc/terms/")
LABEL_LANGS = ("en", "zh", "zh-hans", "zh-hant", "ru")
COMMONS = "https://commons.wikimedia.org/wiki/Special:FilePath/"


@dataclass
class Enriched:
    path: Path
    items: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)     # deleted items, wrong shape
    failures: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)     # offline: not in cache
    triples: int = 0


def _date(t: wdjson.WDTime) -> Literal | None:
    if t.year <= 0:
        return None
    if t.precision >= 11 and t.day:
        return Literal(t.iso, datatype=XSD.date)
    if t.precision == 10 and t.month:
        return Literal(t.iso, datatype=XSD.gYearMonth)
    if t.precision == 9:
        return Literal(t.iso, datatype=XSD.gYear)
    return None      # decade or coarser: no honest xsd type


def describe(g: Graph, qid: str, ent: dict[str, Any], answer: URIRef, run: BNode) -> None:
    item = WD[qid]
    for lang in LABEL_LANGS:
        value = wdjson.labels(ent).get(lang)
        if value:
            g.add((item, RDFS.label, Literal(value, lang=lang)))
    for prop in ("P569", "P570"):
        t = wdjson.time_value(ent, prop)
        lit = _date(t) if t else None
        if lit is not None:
            g.add((item, WDT[prop], lit))
    for filename in wdjson.string_values(ent, "P18")[:1]:
        g.add((item, FOAF.depiction, URIRef(COMMONS + quote(filename.replace(" ", "_")))))
    for _lang, url in wdjson.wikipedia(ent):
        g.add((item, FOAF.isPrimaryTopicOf, URIRef(quote(url, safe=":/%()'_,-."))))
    g.add((item, PROV.wasDerivedFrom, answer))
    g.add((run, PROV.used, answer))


def _keep_previous(g: Graph, report: Enriched, qids: list[str], run: BNode) -> None:
    """Items that could not be fetched keep their previous description: a failed run loses nothing."""
    if not qids or not report.path.exists():
        return
    old = Graph()
    try:
        old.parse(report.path, format="turtle")
    except Exception as exc:  # noqa: BLE001 - any parse failure means there is nothing to keep
        report.failures.append(f"{report.path}: previous enrichment unreadable ({type(exc).__name__})")
        return
    for qid in qids:
        item = WD[qid]
        kept = list(old.triples((item, None, None)))
        for t in kept:
            g.add(t)
            if t[1] == PROV.wasDerivedFrom:
                for a in old.triples((t[2], None, None)):
                    g.add(a)
                g.add((run, PROV.used, t[2]))
        if kept:
            report.skipped.append(f"{qid}: not fetched, previous enrichment kept")


def enrich(authority: Any, client: WikidataClient, out: str | Path, *, at: str) -> Enriched:
    """Write the enrichment Turtle for every published QID; report what could not be fetched."""
    report = Enriched(Path(out))
    qids = sorted({e.published_qid() for e in authority.entities.values() if e.published_qid()},
                  key=lambda q: int(q[1:]))
    found, failed = client.entities(qids)
    for qid, why in failed.items():
        (report.missing if "offline" in why else report.failures).append(f"{qid}: {why}")
    g = Graph()
    g.bind("wd", WD)
    g.bind("wdt", WDT)
    g.bind("prov", PROV)
    g.bind("foaf", FOAF)
    g.bind("dcterms", DCT)
    run = BNode("enrichmentRun")
    agent = BNode("lodSoftware")
    g.add((run, RDF.type, PROV.Activity))
    g.add((run, RDFS.label, Literal("lod reconcile: Wikidata enrichment")))
    g.add((run, PROV.endedAtTime, Literal(at, datatype=XSD.dateTime)))
    g.add((run, PROV.wasAssociatedWith, agent))
    g.add((agent, RDF.type, PROV.SoftwareAgent))
    g.add((agent, RDFS.label, Literal(f"lod {__version__}")))
    for qid in qids:
        got = found.get(qid)
        if got is None:
            continue
        ent = got.body
        if wdjson.is_missing(ent):
            report.skipped.append(f"{qid}: deleted on Wikidata (run --verify)")
            continue
        target = str(ent.get("id") or qid)
        answer = URIRef(f"{client.api_url}?" + urlencode({"action": "wbgetentities", "ids": target}))
        g.add((answer, RDF.type, PROV.Entity))
        g.add((answer, DCT.source, URIRef(client.api_url)))
        g.add((answer, PROV.generatedAtTime, Literal(got.retrieved_at, datatype=XSD.dateTime)))
        describe(g, target, ent, answer, run)
        if target != qid:
            g.add((WD[qid], URIRef("http://www.w3.org/2002/07/owl#sameAs"), WD[target]))
        report.items.append(target)
    _keep_previous(g, report, [q for q in qids if q not in found], run)
    report.triples = len(g)
    text = g.serialize(format="turtle")
    report.path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=report.path.parent, prefix=".enrichment-", suffix=".ttl")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# Wikidata enrichment written by `lod reconcile` (docs/reconcile.md). Do not edit:\n"
                     "# rerun `lod reconcile` to refresh. Loaded by the build into the enrichment graph.\n")
            fh.write(text)
        os.replace(tmp, report.path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return report
