"""Example queries for the query page, written for THIS dataset (they name a person it really has)."""

from __future__ import annotations

from typing import Any

from lod.config import Settings

CRM = "http://www.cidoc-crm.org/cidoc-crm/"
PROLOGUE = """PREFIX crm: <http://www.cidoc-crm.org/cidoc-crm/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
TOP_PERSON = PROLOGUE + """SELECT ?p (SAMPLE(?label) AS ?name) (COUNT(DISTINCT ?d) AS ?n) WHERE {
  ?d crm:P67_refers_to ?p . ?p a crm:E21_Person ; rdfs:label ?label .
} GROUP BY ?p ORDER BY DESC(?n) ?p LIMIT 1"""


def top_person(store: Any, base: str) -> tuple[str, str]:
    """The person most documents refer to (IRI, label); a plausible fallback on an empty store."""
    try:
        for row in store.query(TOP_PERSON):
            return row["p"].value, row["name"].value
    except Exception:  # noqa: BLE001 - the page must render even when the store cannot answer
        pass
    return base + "id/person/deng-xiaoping", "Deng Xiaoping"


def examples(store: Any, settings: Settings) -> list[tuple[str, str, str]]:
    """(id, title, query) for the query page."""
    person, name = top_person(store, settings.base_uri)
    from lod.sparql.endpoint import allowlist

    wdqs = (allowlist(settings) or ["https://query.wikidata.org/sparql"])[0]
    return [
        ("mentions", f"Documents mentioning {name}", PROLOGUE + f"""
SELECT ?doc ?title ?date WHERE {{
  ?doc crm:P67_refers_to <{person}> ;
       dcterms:title ?title .
  OPTIONAL {{ ?doc dcterms:date ?date }}
}}
ORDER BY ?date ?doc"""),
        ("co-mentions", f"People mentioned together with {name}", PROLOGUE + f"""
SELECT ?other (SAMPLE(?label) AS ?name) (COUNT(DISTINCT ?doc) AS ?documents) WHERE {{
  ?doc crm:P67_refers_to <{person}> , ?other .
  ?other a crm:E21_Person ; rdfs:label ?label .
  FILTER (?other != <{person}>)
}}
GROUP BY ?other
ORDER BY DESC(?documents) ?name
LIMIT 10"""),
        ("timeline", "Timeline: documents per year", PROLOGUE + """
SELECT ?year (COUNT(DISTINCT ?doc) AS ?documents) WHERE {
  ?doc a crm:E31_Document ;
       crm:P94i_was_created_by/crm:P4_has_time-span/crm:P82a_begin_of_the_begin ?begin .
  BIND (YEAR(?begin) AS ?year)
}
GROUP BY ?year
ORDER BY ?year"""),
        ("wikidata-births", "Federated: birth dates from Wikidata of the people our documents mention",
         PROLOGUE + f"""PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?person (SAMPLE(?label) AS ?name) ?birth (COUNT(DISTINCT ?doc) AS ?documents) WHERE {{
  ?doc crm:P67_refers_to ?person .
  ?person a crm:E21_Person ; rdfs:label ?label ; owl:sameAs ?wd .
  SERVICE <{wdqs}> {{ ?wd wdt:P569 ?birth }}
}}
GROUP BY ?person ?birth
ORDER BY ?birth"""),
    ]
