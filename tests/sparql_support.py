"""Helpers for the SPARQL tests: a small mapping-shaped store laid out like a real build, and loopback servers.

The store follows lod/store.py exactly (Layout: builds/<id>/oxigraph + catalog.sqlite, CURRENT), so the
real app serves it; its shape follows docs/mapping.md (record graphs, authority graph with owl:sameAs).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pyoxigraph as ox

from lod.store import Catalog, CatalogEntry, Layout

CRM = "http://www.cidoc-crm.org/cidoc-crm/"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
OWL_SAMEAS = "http://www.w3.org/2002/07/owl#sameAs"
XSD = "http://www.w3.org/2001/XMLSchema#"
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"

# (authority id, label, QID, birth date on "Wikidata")
PEOPLE = [
    ("mao-zedong", "Mao Zedong", "Q5816", "1893-12-26"),
    ("pavel-yudin", "Pavel Yudin", "", ""),
    ("zhou-enlai", "Zhou Enlai", "Q17410", "1898-03-05"),
    ("liu-shaoqi", "Liu Shaoqi", "Q16981", "1898-11-24"),
    ("nikita-khrushchev", "Nikita Khrushchev", "Q35340", "1894-04-15"),
    ("anonymous-clerk", "Anonymous Clerk", "", ""),
]


def _n(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def documents(n: int) -> list[dict[str, object]]:
    """Deterministic records: key, title, year, the people they refer to."""
    out = []
    for i in range(n):
        refs = [PEOPLE[i % 5][0], PEOPLE[(i * 3 + 1) % 6][0]]
        if i % 4 == 0:
            refs.append("mao-zedong")
        out.append({"key": f"{100000 + i}", "title": f"Conversation {i} about {'Taiwan' if i % 3 else 'the Party'}",
                    "year": 1950 + i % 12, "refs": sorted(set(refs))})
    return out


def make_store(root: Path, base: str, n_docs: int = 12, extra: list[ox.Quad] | None = None,
               empty_graphs: list[str] = ()) -> Path:
    """Write a published build under ``root`` (the --store directory) and return ``root``."""
    layout = Layout(root)
    build = layout.new_build()
    store = ox.Store(str(build / "oxigraph"))
    quads: list[ox.Quad] = []
    authority = _n(base + "graph/authority")
    entries = []
    for pid, label, qid, _ in PEOPLE:
        p = _n(f"{base}id/person/{pid}")
        quads += [ox.Quad(p, _n(RDF_TYPE), _n(CRM + "E21_Person"), authority),
                  ox.Quad(p, _n(RDFS_LABEL), ox.Literal(label), authority)]
        if qid:
            quads.append(ox.Quad(p, _n(OWL_SAMEAS), _n(WD + qid), authority))
    for d in documents(n_docs):
        key = d["key"]
        g = _n(f"{base}graph/document/{key}")
        doc = _n(f"{base}id/document/{key}")
        cre = _n(f"{base}id/creation/{key}")
        ts = _n(f"{base}id/timespan/{key}-created")
        quads += [ox.Quad(doc, _n(RDF_TYPE), _n(CRM + "E31_Document"), g),
                  ox.Quad(doc, _n(DCT + "title"), ox.Literal(d["title"]), g),
                  ox.Quad(doc, _n(RDFS_LABEL), ox.Literal(d["title"]), g),
                  ox.Quad(doc, _n(DCT + "date"), ox.Literal(f"{d['year']}-01-15"), g),
                  ox.Quad(doc, _n(CRM + "P94i_was_created_by"), cre, g),
                  ox.Quad(cre, _n(CRM + "P4_has_time-span"), ts, g),
                  ox.Quad(ts, _n(CRM + "P82a_begin_of_the_begin"),
                          ox.Literal(f"{d['year']}-01-15T00:00:00", datatype=_n(XSD + "dateTime")), g)]
        for pid in d["refs"]:
            p = _n(f"{base}id/person/{pid}")
            label = next(lab for i, lab, _, _ in PEOPLE if i == pid)
            quads += [ox.Quad(doc, _n(CRM + "P67_refers_to"), p, g),
                      ox.Quad(p, _n(RDF_TYPE), _n(CRM + "E21_Person"), g),
                      ox.Quad(p, _n(RDFS_LABEL), ox.Literal(label), g)]
        entries.append(CatalogEntry(key=key, graph=g.value, checksum=key, datestamp="2026-01-01T00:00:00Z",
                                    title=str(d["title"])))
    store.extend(quads + list(extra or []))
    for gname in empty_graphs:
        store.add_graph(_n(gname))
    store.flush()
    del store
    cat = Catalog(build / "catalog.sqlite")
    cat.put(entries)
    cat.set_meta(built_at="2026-01-01T00:00:00Z", base_uri=base, version="test", triples=str(len(quads)))
    cat.close()
    (build / "dumps").mkdir()
    layout.publish(build)
    return root


def wikidata_quads() -> list[ox.Quad]:
    """Wikidata-shaped data for the second endpoint: labels and P569 birth dates of our people."""
    out = []
    for _, label, qid, birth in PEOPLE:
        if not qid:
            continue
        e = _n(WD + qid)
        out.append(ox.Quad(e, _n(RDFS_LABEL), ox.Literal(label, language="en"), ox.DefaultGraph()))
        if birth:
            out.append(ox.Quad(e, _n(WDT + "P569"), ox.Literal(birth + "T00:00:00Z", datatype=_n(XSD + "dateTime")),
                               ox.DefaultGraph()))
    # someone we never mention, to prove the join filters
    out.append(ox.Quad(_n(WD + "Q1"), _n(WDT + "P569"), ox.Literal("1900-01-01T00:00:00Z",
                                                                    datatype=_n(XSD + "dateTime")), ox.DefaultGraph()))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OxigraphServer:
    """``oxigraph serve-read-only`` on loopback over a store loaded with ``oxigraph load``."""

    def __init__(self, workdir: Path, nquads: bytes) -> None:
        exe = shutil.which("oxigraph")
        if exe is None:
            raise RuntimeError("the oxigraph server (PyPI package oxigraph) is not installed")
        self.location = workdir / "oxigraph-peer"
        data = workdir / "peer.nq"
        data.write_bytes(nquads)
        subprocess.run([exe, "load", "--location", str(self.location), "--file", str(data)], check=True,
                       capture_output=True, timeout=300)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/query"
        self.proc = subprocess.Popen([exe, "serve-read-only", "--location", str(self.location),
                                      "--bind", f"127.0.0.1:{self.port}"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.close()
        raise RuntimeError("oxigraph server did not start")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
