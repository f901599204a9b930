"""SERVICE rewriting is semantics-preserving: for many query shapes, our federation (bind join or plain,
then VALUES in place of SERVICE) gives exactly the multiset of rows that evaluating the SERVICE pattern
against the remote data in place would give.

Ground truth: one pyoxigraph store holding our graphs plus the "remote" data in graph <urn:remote>, the
query evaluated with ``SERVICE <e> { P }`` replaced by ``GRAPH <urn:remote> { P }``. Ours: the real
Federator over a local store (our graphs) and a remote store (the remote data), both real pyoxigraph.
"""

from __future__ import annotations

import time
from collections import Counter

import pyoxigraph as ox
import pytest

from lod.sparql.federation import Federator, Remote
from lod.sparql.safety import analyse

E = "http://127.0.0.1:9/sparql"
EX = "http://example.org/"
PRO = "PREFIX ex: <http://example.org/>\n"


def _n(x: str) -> ox.NamedNode:
    return ox.NamedNode(EX + x)


def _data() -> tuple[list[ox.Quad], list[ox.Triple]]:
    ours, remote = [], []
    for i in range(8):
        doc, p = _n(f"doc{i}"), _n(f"person{i % 4}")
        g = _n(f"graph{i}")
        ours += [ox.Quad(doc, _n("mentions"), p, g), ox.Quad(doc, _n("year"), ox.Literal(str(1950 + i),
                 datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")), g)]
        if i % 3 == 0:
            ours.append(ox.Quad(doc, _n("mentions"), _n("person9"), g))
    for j in (0, 1, 2, 9, 42):
        remote.append(ox.Triple(_n(f"person{j}"), _n("born"), ox.Literal(str(1890 + j),
                      datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))))
        remote.append(ox.Triple(_n(f"person{j}"), _n("name"), ox.Literal(f"Person {j}", language="en")))
    remote.append(ox.Triple(_n("person1"), _n("alias"), ox.BlankNode("b1")))
    remote.append(ox.Triple(ox.BlankNode("b1"), _n("name"), ox.Literal("alias of 1")))
    return ours, remote


class _Fed(Federator):
    def __init__(self, remote: ox.Store) -> None:
        super().__init__(timeout=5, max_rows=10_000, user_agent="test")
        self.remote = remote
        self.sent: list[str] = []

    def fetch(self, endpoint: str, query: str, deadline: float) -> Remote:
        self.sent.append(query)
        self.calls += 1
        body = self.remote.query(query).serialize(format=ox.QueryResultsFormat.JSON)
        return self._parse(endpoint, body, "application/sparql-results+json")


def _rows(result: object) -> Counter[tuple[tuple[str, str], ...]]:
    if isinstance(result, ox.QueryBoolean):
        return Counter([(("ask", str(bool(result))),)])
    out: Counter[tuple[tuple[str, str], ...]] = Counter()
    for sol in result:   # type: ignore[attr-defined]
        items = []
        for v in result.variables:   # type: ignore[attr-defined]
            t = sol[v]
            items.append((v.value, "" if t is None else ("_:" if isinstance(t, ox.BlankNode) else str(t))))
        out[tuple(items)] += 1
    return out


SHAPES = {
    "bind join": "SELECT ?doc ?b WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } }",
    "bind join, filter on remote var": "SELECT ?doc ?b WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } "
                                       "FILTER (?b > 1890) }",
    "bind join, local filter": "SELECT ?doc ?b WHERE { ?doc ex:mentions ?p ; ex:year ?y . FILTER (?y < 1955) "
                               "SERVICE <E> { ?p ex:born ?b } }",
    "aggregate": "SELECT ?p (COUNT(?doc) AS ?n) ?b WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } } "
                 "GROUP BY ?p ?b ORDER BY ?p",
    "optional service": "SELECT ?doc ?p ?b WHERE { ?doc ex:mentions ?p . OPTIONAL { SERVICE <E> { ?p ex:born ?b } } }",
    "union": "SELECT ?x WHERE { { ?x ex:mentions ex:person0 } UNION { SERVICE <E> { ?x ex:born 1891 } } }",
    "minus": "SELECT ?doc ?p ?b WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } MINUS { ?doc ex:year 1950 } }",
    "nested filter": "SELECT ?doc ?b WHERE { ?doc ex:mentions ?p . { ?doc ex:year ?y FILTER (?y > 1952) } "
                     "SERVICE <E> { ?p ex:born ?b } }",
    "two services": "SELECT ?doc ?b ?nm WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } "
                    "SERVICE <E> { ?p ex:name ?nm } }",
    "no shared variable": "SELECT ?doc ?q WHERE { ?doc ex:year 1950 . SERVICE <E> { ?q ex:born 1942 } }",
    "nothing joins": "SELECT ?doc ?b WHERE { ?doc ex:mentions ex:nobody . ?doc ex:mentions ?p . "
                     "SERVICE <E> { ?p ex:born ?b } }",
    "blank nodes": "SELECT ?p ?nm WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:alias ?a . ?a ex:name ?nm } }",
    "ask": "ASK { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born 1942 } }",
    "construct": "CONSTRUCT { ?doc ex:authorBorn ?b } WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } }",
    "subquery": "SELECT ?p ?b WHERE { { SELECT DISTINCT ?p WHERE { ?d ex:mentions ?p } } SERVICE <E> { ?p ex:born ?b } }",
    "silent": "SELECT ?doc ?b WHERE { ?doc ex:mentions ?p . SERVICE SILENT <E> { ?p ex:born ?b } }",
    "trailing values": "SELECT ?doc ?b WHERE { ?doc ex:mentions ?p . SERVICE <E> { ?p ex:born ?b } } VALUES ?doc { ex:doc0 ex:doc1 }",
}


@pytest.fixture(scope="module")
def stores() -> tuple[ox.Store, ox.Store, ox.Store]:
    ours, remote = _data()
    local = ox.Store()
    local.extend(ours)
    rem = ox.Store()
    rem.extend([ox.Quad(t.subject, t.predicate, t.object) for t in remote])
    truth = ox.Store()
    truth.extend(ours + [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("urn:remote")) for t in remote])
    return local, rem, truth


@pytest.mark.parametrize("shape", list(SHAPES))
def test_rewrite_matches_in_place_evaluation(stores, shape: str) -> None:  # noqa: ANN001
    local, rem, truth = stores
    q = PRO + SHAPES[shape].replace("<E>", f"<{E}>")
    ours_graphs = [g for g in truth.named_graphs() if g.value != "urn:remote"]
    expected_q = q.replace(f"SERVICE SILENT <{E}>", "GRAPH <urn:remote>").replace(f"SERVICE <{E}>", "GRAPH <urn:remote>")
    expected = truth.query(expected_q, default_graph=ours_graphs, named_graphs=[ox.NamedNode("urn:remote")])
    if isinstance(expected, ox.QueryTriples):
        expected_set = {str(t) for t in expected}
    else:
        expected_rows = _rows(expected)

    fed = _Fed(rem)

    def run_local(text: str, deadline: float) -> bytes:
        return local.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)

    a = analyse(q)
    rewritten, truncated = fed.resolve(a, run_local, time.monotonic() + 30)
    assert analyse(rewritten).services == []
    got = local.query(rewritten, use_default_graph_as_union=True)
    if isinstance(got, ox.QueryTriples):
        assert {str(t) for t in got} == expected_set
    elif shape == "blank nodes":
        # remote blank nodes are skolemised; the joined values are the same
        assert sorted(r for r in _rows(got)) == sorted(r for r in expected_rows)
    else:
        assert _rows(got) == expected_rows, (rewritten, fed.sent)
    assert not truncated


def test_bind_join_is_used_where_safe_and_only_then(stores) -> None:  # noqa: ANN001
    local, rem, _ = stores

    def run_local(text: str, deadline: float) -> bytes:
        return local.query(text, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.TSV)

    for shape, bound in (("bind join", True), ("aggregate", True), ("optional service", False), ("minus", False),
                         ("nested filter", False), ("no shared variable", False)):
        fed = _Fed(rem)
        fed.resolve(analyse(PRO + SHAPES[shape].replace("<E>", f"<{E}>")), run_local, time.monotonic() + 30)
        assert ("VALUES (?p)" in fed.sent[0]) is bound, (shape, fed.sent)
    fed = _Fed(rem)
    fed.resolve(analyse(PRO + SHAPES["nothing joins"].replace("<E>", f"<{E}>")), run_local, time.monotonic() + 30)
    assert fed.sent == []   # no candidate can join: the remote endpoint is not called at all
