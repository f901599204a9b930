"""XML written as text for the metadata formats the build prepares for every record (oai_dc, EDM).

Building an lxml tree per record only to serialise it cost more than the rest of the OAI-PMH
preparation (bench/RESULTS.md); these helpers write the same bytes ``etree.tostring`` writes for
such a tree (ASCII, non-ASCII as decimal character references, the same escapes), which
tests/test_oai_xmlout.py checks against lxml. Names are prefixed (``dc:title``); the caller declares
the namespaces on the root.
"""

from __future__ import annotations

from lod.oai.view import xml_text


def text(value: str) -> str:
    """Character data as libxml2 escapes it; characters XML cannot carry are dropped (lxml refuses them)."""
    return xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def attr(value: str) -> str:
    """An attribute value (double-quoted) as libxml2 escapes it."""
    return (xml_text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;").replace("\r", "&#13;"))


def leaf(name: str, value: str | None = None, lang: str = "") -> str:
    """One element holding text (``value``) or nothing."""
    head = f'{name} xml:lang="{attr(lang)}"' if lang else name
    if value is None:
        return f"<{head}/>"
    return f"<{head}>{text(value)}</{name}>"


def resource(name: str, iri: str) -> str:
    """An empty element pointing at ``iri`` (``rdf:resource``)."""
    return f'<{name} rdf:resource="{attr(iri)}"/>'


def namespaces(nsmap: dict[str, str]) -> str:
    return "".join(f' xmlns:{prefix}="{attr(uri)}"' for prefix, uri in nsmap.items())


def finish(parts: list[str]) -> bytes:
    """The document's bytes: ASCII, as ``etree.tostring`` writes by default."""
    return "".join(parts).encode("ascii", "xmlcharrefreplace")
