"""The project vocabulary (ontology/vocab.ttl) and the ontology graph: CRM RDFS + vocabulary + languages.

vocab.ttl is written with a placeholder base so it is valid Turtle on its own; every use goes
through :func:`vocabulary_quads`, which rewrites it to the configured base.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pyoxigraph as ox

from lod.mapping.namespaces import CRM, PLACEHOLDER_BASE, SKOS

ROOT = Path(__file__).resolve().parents[2]
ONTOLOGY_DIR = ROOT / "ontology"
CRM_RDFS = ONTOLOGY_DIR / "CIDOC_CRM_v7.1.3.rdf"
VOCAB_TTL = ONTOLOGY_DIR / "vocab.ttl"

# Language names as the sources write them -> ISO 639-1 code (the IRI local name and the literal tag).
LANGUAGES: dict[str, str] = {
    "albanian": "sq", "amharic": "am", "arabic": "ar", "armenian": "hy", "azerbaijani": "az",
    "belarusian": "be", "bengali": "bn", "bulgarian": "bg", "burmese": "my", "chinese": "zh",
    "croatian": "hr", "czech": "cs", "danish": "da", "dutch": "nl", "english": "en", "estonian": "et",
    "finnish": "fi", "french": "fr", "georgian": "ka", "german": "de", "greek": "el", "hebrew": "he",
    "hindi": "hi", "hungarian": "hu", "indonesian": "id", "italian": "it", "japanese": "ja",
    "kazakh": "kk", "khmer": "km", "korean": "ko", "lao": "lo", "latvian": "lv", "lithuanian": "lt",
    "macedonian": "mk", "malay": "ms", "mongolian": "mn", "norwegian": "no", "persian": "fa",
    "farsi": "fa", "polish": "pl", "portuguese": "pt", "romanian": "ro", "russian": "ru",
    "serbian": "sr", "serbo-croatian": "sh", "slovak": "sk", "slovenian": "sl", "spanish": "es",
    "swahili": "sw", "swedish": "sv", "tamil": "ta", "thai": "th", "turkish": "tr", "ukrainian": "uk",
    "urdu": "ur", "uzbek": "uz", "vietnamese": "vi", "yiddish": "yi",
}
LANGUAGE_NAMES: dict[str, str] = {}
for _name, _code in LANGUAGES.items():
    LANGUAGE_NAMES.setdefault(_code, _name.title())


# CIDOC-CRM 7.1.3 RDFS declares skos:inScheme rdfs:subPropertyOf crm:P67_refers_to, whose domain is
# crm:E89_Propositional_Object: by CRM's own declaration every concept in a scheme is an E89. The
# mapping asserts that type on every concept it puts in a scheme, so consumers without RDFS
# inference see it and tests/test_crm_domain_range.py checks asserted types only.
CONCEPT_IS_E89 = True


def language_code(name: str) -> str | None:
    """ISO 639-1 code of a language name ('Russian' -> 'ru'); accepts codes too; None if unknown."""
    n = name.strip().lower()
    if n in LANGUAGE_NAMES:
        return n
    return LANGUAGES.get(n)


@functools.lru_cache(maxsize=1)
def _vocab_text() -> str:
    return VOCAB_TTL.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=8)
def vocabulary_quads(base: str, graph: str) -> tuple[ox.Quad, ...]:
    """vocab.ttl rewritten to ``base``, plus one crm:E56_Language concept per known language."""
    g = ox.NamedNode(graph)
    text = _vocab_text().replace(PLACEHOLDER_BASE, base)
    quads = [ox.Quad(t.subject, t.predicate, t.object, g) for t in ox.parse(text, ox.RdfFormat.TURTLE)]
    in_scheme = {q.subject.value for q in quads if q.predicate.value == SKOS + "inScheme"}
    quads += [ox.Quad(ox.NamedNode(s), ox.NamedNode(_RDF_TYPE), ox.NamedNode(CRM + "E89_Propositional_Object"), g)
              for s in sorted(in_scheme)]
    scheme = ox.NamedNode(f"{base}vocab/language")
    for code, name in sorted(LANGUAGE_NAMES.items()):
        term = ox.NamedNode(f"{base}vocab/language/{code}")
        quads += [
            ox.Quad(term, ox.NamedNode(_RDF_TYPE), ox.NamedNode(CRM + "E56_Language"), g),
            ox.Quad(term, ox.NamedNode(_RDF_TYPE), ox.NamedNode(SKOS + "Concept"), g),
            ox.Quad(term, ox.NamedNode(_RDF_TYPE), ox.NamedNode(CRM + "E89_Propositional_Object"), g),
            ox.Quad(term, ox.NamedNode(SKOS + "inScheme"), scheme, g),
            ox.Quad(term, ox.NamedNode(SKOS + "prefLabel"), ox.Literal(name, language="en"), g),
            ox.Quad(term, ox.NamedNode(SKOS + "notation"), ox.Literal(code), g),
        ]
    return tuple(quads)


@functools.lru_cache(maxsize=1)
def known_terms() -> dict[str, frozenset[str]]:
    """Terms of each fixed scheme in vocab.ttl: {'document-type': {'diary-entry', ...}, ...}."""
    prefix = PLACEHOLDER_BASE + "vocab/"
    out: dict[str, set[str]] = {}
    for t in ox.parse(_vocab_text(), ox.RdfFormat.TURTLE):
        if t.predicate.value == SKOS + "inScheme":
            scheme = t.object.value[len(prefix):]
            out.setdefault(scheme, set()).add(t.subject.value.rsplit("/", 1)[1])
    return {k: frozenset(v) for k, v in out.items()}


def ontology_quads(base: str, graph: str) -> list[ox.Quad]:
    """The ontology graph: CIDOC-CRM 7.1.3 RDFS as published by CRM-SIG, plus the project vocabulary."""
    g = ox.NamedNode(graph)
    crm = [ox.Quad(t.subject, t.predicate, t.object, g)
           for t in ox.parse(path=str(CRM_RDFS), format=ox.RdfFormat.RDF_XML)]
    return crm + list(vocabulary_quads(base, graph))


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
