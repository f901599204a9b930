"""lod.oai.xmlout writes what lxml writes: the prepared oai_dc/EDM must not change with how they are built."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from lod.oai import xmlout as x

NS = {"dc": "http://purl.org/dc/elements/1.1/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#"}
LANG = "{http://www.w3.org/XML/1998/namespace}lang"
RESOURCE = f"{{{NS['rdf']}}}resource"
HOSTILE = ["", "plain", "a & b < c > d", 'quote " and \' apostrophe', "]]> <![CDATA[ x", "line\nbreak\ttab\rreturn",
           "Лю Шаоци 刘少奇 😀", "form\x0cfeed\x00nul\x1b", "\ud7ff\ue000\ufffd\U0010ffff", "&amp; already escaped"]


def lxml_bytes(value: str | None, lang: str = "", resource: str | None = None) -> bytes:
    root = etree.Element(f"{{{NS['rdf']}}}RDF", nsmap=NS)
    el = etree.SubElement(root, f"{{{NS['dc']}}}title")
    if value is not None:
        el.text = x.xml_text(value)
    if lang:
        el.set(LANG, x.xml_text(lang))
    if resource is not None:
        el.set(RESOURCE, x.xml_text(resource))
    return etree.tostring(root)


def ours(value: str | None, lang: str = "", resource: str | None = None) -> bytes:
    el = x.resource("dc:title", resource) if resource is not None else x.leaf("dc:title", value, lang)
    return x.finish([f"<rdf:RDF{x.namespaces(NS)}>", el, "</rdf:RDF>"])


def test_hostile_text_and_attributes_as_lxml_writes_them():
    for s in HOSTILE:
        assert ours(s) == lxml_bytes(s), s
        assert ours(s, lang="en") == lxml_bytes(s, lang="en"), s
        assert ours(None, resource=s) == lxml_bytes(None, resource=s), s
        assert ours(s, lang=s or "x") == lxml_bytes(s, lang=s or "x"), s


def test_no_value_is_an_empty_element_and_empty_text_is_not():
    assert x.leaf("dc:title") == "<dc:title/>"
    assert x.leaf("dc:title", "") == "<dc:title></dc:title>"


def test_output_is_ascii_and_well_formed():
    out = ours("Лю Шаоци & <Zhou> 😀\x00")
    out.decode("ascii")
    root = etree.fromstring(out)
    assert root[0].text == "Лю Шаоци & <Zhou> 😀"


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.none(), st.text()), lang=st.text(max_size=8), resource=st.text())
def test_any_string_as_lxml_writes_it(value: str | None, lang: str, resource: str):
    assert ours(value, lang) == lxml_bytes(value, lang)
    assert ours(None, resource=resource) == lxml_bytes(None, resource=resource)


def test_a_hostile_title_stays_text_in_both_prepared_formats():
    import pyoxigraph as ox

    from lod.oai.formats import FORMATS, Context, MemorySource, RecordView

    doc = "https://example.org/id/document/1"
    title = "<?lod-metadata 0?> ]]> &amp; \"Лю\"\x0c <dc:title>x</dc:title>"
    triples = [(ox.NamedNode(doc), ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal(title, language="en"))]
    view = RecordView.read(MemorySource(triples, {}), doc)
    ctx = Context("Publisher & <Co>", "http://rightsstatements.org/vocab/InC-EDU/1.0/", lambda d: d + ".html")
    for prefix in ("oai_dc", "edm"):
        out = FORMATS[prefix].render(view, ctx)
        assert b"<?lod-metadata" not in out and b"<dc:title>x" not in out
        root = etree.fromstring(out)
        titles = [e.text for e in root.iter(f"{{{NS['dc']}}}title")]
        assert titles == [title.replace("\x0c", "")], prefix
