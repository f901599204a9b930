"""OAI-PMH protocol on a small hand-made store: verbs, every error code, tokens, rebuilds, hostile input.

Every response goes through ``valid()`` (OAI-PMH.xsd + oai_dc.xsd, offline). The store is written
with lod.store directly so datestamps can be set exactly (rebuild cases a real build never makes).
"""

from __future__ import annotations

import shutil
import string
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oai_support import NS, MiniRecord, errors, make_store, request_attrs, valid

from lod import config
from lod.oai import protocol, tokens
from lod.oai.protocol import Repository, handle, parse_datestamp, repository_identifier
from lod.store import EmbeddedStore

BASE = "http://lod.example.org/"
SETS = ("archive:avprf", "language:ru", "subject:sino-soviet-relations", "subject:korean-war")


def records() -> list[MiniRecord]:
    out = [MiniRecord(f"k{i}", f"Record {i}", f"2026-01-0{1 + i // 3}T10:00:0{i % 3}Z",
                      sets=SETS if i % 2 else SETS[:3]) for i in range(7)]
    out.append(MiniRecord("gone", "Withdrawn record", "2026-01-04T00:00:00Z", deleted=True, sets=("archive:avprf",)))
    return out


@dataclass
class Oai:
    root: Path
    repo: Repository
    client: object

    def handle(self, *pairs: tuple[str, str], now: float | None = None) -> object:
        return valid(handle(list(pairs), self.repo, now))

    def get(self, **args: str) -> object:
        resp = self.client.get("/oai", query_string=args)
        assert resp.status_code == 200
        assert resp.mimetype == "text/xml"
        return valid(resp.data)

    def ident(self, key: str) -> str:
        return self.repo.identifier(key)

    def harvest(self, verb: str = "ListIdentifiers", **args: str) -> list[tuple[str, str, bool]]:
        """(identifier, datestamp, deleted) of every header, following tokens."""
        out = []
        root = self.get(verb=verb, **args)
        while True:
            assert not errors(root), errors(root)
            for h in root.iterfind(".//o:header", NS):
                out.append((h.findtext("o:identifier", namespaces=NS), h.findtext("o:datestamp", namespaces=NS),
                            h.get("status") == "deleted"))
            tok = root.find(f"o:{verb}/o:resumptionToken", NS)
            if tok is None or not tok.text:
                return out
            root = self.get(verb=verb, resumptionToken=tok.text)


def make_oai(root: Path, recs: list[MiniRecord] | None = None, **overrides: object) -> Oai:
    from lod.web.app import create_app

    store = root / "store"
    if not store.exists():
        make_store(store, recs or records(), base=BASE)
    app = create_app({"store": str(store), "base_uri": BASE, "oai_page_size": 3, **overrides})
    return Oai(root, app.config["LOD_OAI"], app.test_client())


@pytest.fixture
def oai(tmp_path: Path) -> Oai:
    return make_oai(tmp_path)


# ----------------------------------------------------------------------------------- the six verbs
def test_identify_declares_policy_granularity_and_identifier_scheme(oai: Oai) -> None:
    root = oai.get(verb="Identify")
    ident = root.find("o:Identify", NS)
    assert ident.findtext("o:baseURL", namespaces=NS) == BASE + "oai"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == "2026-01-01T10:00:00Z"
    assert ident.findtext("o:adminEmail", namespaces=NS) == "archive@example.org"
    oid = ident.find("o:description/oid:oai-identifier", NS)
    assert oid.findtext("oid:repositoryIdentifier", namespaces=NS) == "lod.example.org"
    assert oid.findtext("oid:sampleIdentifier", namespaces=NS) == "oai:lod.example.org:k0"
    assert request_attrs(root) == {"verb": "Identify"}


def test_list_metadata_formats(oai: Oai) -> None:
    root = oai.get(verb="ListMetadataFormats")
    prefixes = [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]
    assert prefixes == ["oai_dc", "edm", "rdf"]
    root = oai.get(verb="ListMetadataFormats", identifier=oai.ident("k1"))
    assert len(root.findall(".//o:metadataFormat", NS)) == 3
    assert errors(oai.get(verb="ListMetadataFormats", identifier=oai.ident("gone"))) == ["noMetadataFormats"]
    assert errors(oai.get(verb="ListMetadataFormats", identifier=oai.ident("nope"))) == ["idDoesNotExist"]


def test_list_sets_is_a_hierarchy_with_parents(oai: Oai) -> None:
    root = oai.get(verb="ListSets")
    specs = [e.text for e in root.iterfind(".//o:setSpec", NS)]
    assert specs == sorted(specs)
    assert {"archive", "archive:avprf", "language", "language:ru", "subject", "subject:korean-war"} <= set(specs)


def test_get_record_oai_dc(oai: Oai) -> None:
    root = oai.get(verb="GetRecord", identifier=oai.ident("k0"), metadataPrefix="oai_dc")
    dc = root.find(".//oai_dc:dc", NS)
    assert dc.findtext("dc:title", namespaces=NS) == "Record 0"
    assert dc.findtext("dc:creator", namespaces=NS) == "Pavel Yudin"      # IRI -> its label
    assert dc.findtext("dc:language", namespaces=NS) == "ru"
    assert dc.findtext("dc:coverage", namespaces=NS) == "Beijing"
    assert BASE + "id/document/k0" in [e.text for e in dc.iterfind("dc:identifier", NS)]
    assert "&" in dc.findtext("dc:rights", namespaces=NS)                  # escaped, not lost
    assert request_attrs(root) == {"verb": "GetRecord", "identifier": oai.ident("k0"), "metadataPrefix": "oai_dc"}


def test_get_record_deleted_is_a_header_only(oai: Oai) -> None:
    root = oai.get(verb="GetRecord", identifier=oai.ident("gone"), metadataPrefix="edm")
    rec = root.find(".//o:record", NS)
    assert rec.find("o:header", NS).get("status") == "deleted"
    assert rec.find("o:metadata", NS) is None


def test_list_identifiers_pages_with_cursor_and_size(oai: Oai) -> None:
    root = oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    tok = root.find(".//o:resumptionToken", NS)
    assert (tok.get("cursor"), tok.get("completeListSize")) == ("0", "8")
    assert tok.get("expirationDate").endswith("Z")
    got = oai.harvest(metadataPrefix="oai_dc")
    assert len(got) == 8 and len({g[0] for g in got}) == 8
    assert [g[1] for g in got] == sorted(g[1] for g in got)
    assert [g[0] for g in got if g[2]] == [oai.ident("gone")]


def test_last_page_has_empty_token_with_cursor(oai: Oai) -> None:
    root = oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    for _ in range(2):
        root = oai.get(verb="ListIdentifiers", resumptionToken=root.find(".//o:resumptionToken", NS).text)
    tok = root.find(".//o:resumptionToken", NS)
    assert tok.text is None and tok.get("cursor") == "6" and tok.get("completeListSize") == "8"
    assert len(root.findall(".//o:header", NS)) == 2


def test_list_records_in_every_format(oai: Oai) -> None:
    for prefix in ("oai_dc", "edm", "rdf"):
        got = oai.harvest("ListRecords", metadataPrefix=prefix)
        assert len(got) == 8, prefix
    root = oai.get(verb="ListRecords", metadataPrefix="edm")
    assert len(root.findall(".//edm:ProvidedCHO", NS)) == 3


def test_sets_filter_hierarchically_without_duplicates(oai: Oai) -> None:
    # odd keys are in two subject subsets: still once each under the parent "subject"
    got = oai.harvest(metadataPrefix="oai_dc", set="subject")
    assert sorted(g[0] for g in got) == sorted(oai.ident(f"k{i}") for i in range(7))
    got = oai.harvest(metadataPrefix="oai_dc", set="subject:korean-war")
    assert sorted(g[0] for g in got) == sorted(oai.ident(f"k{i}") for i in (1, 3, 5))
    assert errors(oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc", set="subject:none")) == ["noRecordsMatch"]


def test_from_until_are_inclusive_and_days_cover_the_day(oai: Oai) -> None:
    def keys(**a: str) -> list[str]:
        return sorted(g[0].rsplit(":", 1)[1] for g in oai.harvest(metadataPrefix="oai_dc", **a))

    assert keys(**{"from": "2026-01-02", "until": "2026-01-02"}) == ["k3", "k4", "k5"]
    assert keys(**{"from": "2026-01-02T10:00:01Z", "until": "2026-01-02T10:00:02Z"}) == ["k4", "k5"]
    assert keys(**{"from": "2026-01-03T10:00:00Z"}) == ["gone", "k6"]
    assert keys(until="2026-01-01T10:00:00Z") == ["k0"]
    assert errors(oai.get(verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2027-01-01"})) == \
        ["noRecordsMatch"]


def test_post_form_and_other_media_types(oai: Oai) -> None:
    resp = oai.client.post("/oai", data={"verb": "GetRecord", "identifier": oai.ident("k2"),
                                         "metadataPrefix": "oai_dc"})
    assert resp.status_code == 200
    assert valid(resp.data).find(".//dc:title", NS).text == "Record 2"
    resp = oai.client.post("/oai", data='{"verb": "Identify"}', content_type="application/json")
    assert resp.status_code == 415


def test_sets_off_means_no_set_hierarchy(tmp_path: Path) -> None:
    oai = make_oai(tmp_path, oai_sets=False)
    assert errors(oai.get(verb="ListSets")) == ["noSetHierarchy"]
    assert errors(oai.get(verb="ListRecords", metadataPrefix="oai_dc", set="archive")) == ["noSetHierarchy"]
    assert oai.get(verb="GetRecord", identifier=oai.ident("k1"), metadataPrefix="oai_dc").find(
        ".//o:setSpec", NS) is None


def test_bad_edm_rights_fails_at_start_up(tmp_path: Path) -> None:
    make_store(tmp_path / "store", records(), base=BASE)
    with pytest.raises(ValueError, match="edm_rights"):
        make_oai(tmp_path, edm_rights="https://example.org/my-licence")
    make_oai(tmp_path, edm_rights="http://creativecommons.org/publicdomain/zero/1.0/")


# ----------------------------------------------------------------------------------- the classic bad requests
TOKEN = "resumptionToken"


@pytest.mark.parametrize(("args", "code"), [
    ({"verb": "Junk"}, "badVerb"),
    ({}, "badVerb"),
    ({"verb": ""}, "badVerb"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-13-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01T10:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-01T10:00:00+01:00"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2026-02-30"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": ""}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-02", "until": "2026-02-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-02-01T00:00:00Z", "until": "2026-03-01"},
     "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "ListIdentifiers", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "marc21", "identifier": "oai:lod.example.org:k1"},
     "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:lod.example.org:nope"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:other.org:k1"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "not a uri"}, "badArgument"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "GetRecord", "identifier": "oai:lod.example.org:k1"}, "badArgument"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListIdentifiers", "set": "archive"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "bad set!"}, "badArgument"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
    ({"verb": "ListRecords", TOKEN: "junk"}, "badResumptionToken"),
    ({"verb": "ListSets", TOKEN: "junk"}, "badResumptionToken"),
    ({"verb": "ListRecords", TOKEN: "junk", "metadataPrefix": "oai_dc"}, "badArgument"),
])
def test_classic_bad_requests(oai: Oai, args: dict[str, str], code: str) -> None:
    root = oai.get(**args)
    assert errors(root) and set(errors(root)) == {code}, (args, errors(root))
    attrs = request_attrs(root)
    if code in ("badVerb", "badArgument"):
        assert attrs == {}, "spec 3.2: no request attributes after badVerb/badArgument"
    else:
        assert attrs["verb"] == args["verb"]


def test_repeated_arguments(oai: Oai) -> None:
    resp = oai.client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc")
    assert errors(valid(resp.data)) == ["badArgument"]
    resp = oai.client.get("/oai?verb=Identify&verb=Identify")
    assert errors(valid(resp.data)) == ["badVerb"]
    resp = oai.client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=edm&from=x&bogus=1")
    root = valid(resp.data)
    assert errors(root) == ["badArgument"] * 3        # every problem reported, not just the first


# ----------------------------------------------------------------------------------- tokens
def first_token(oai: Oai, verb: str = "ListRecords") -> str:
    return oai.get(verb=verb, metadataPrefix="oai_dc").find(".//o:resumptionToken", NS).text


def test_tampered_forged_expired_and_misused_tokens(oai: Oai) -> None:
    tok = first_token(oai)
    payload, mac = tok.split(".")
    flipped = payload[:-3] + ("A" if payload[-3] != "A" else "B") + payload[-2:]
    other_key = tokens.encode(tokens.decode(tok, oai.repo.key, time.time()), b"another-server-key")
    cases = {
        "tampered": f"{flipped}.{mac}",
        "forged": other_key,
        "truncated": tok[:-1],
        "junk": "x" * 30,
        "empty mac": payload + ".",
    }
    for name, bad in cases.items():
        root = oai.get(verb="ListRecords", resumptionToken=bad)
        assert errors(root) == ["badResumptionToken"], name
    later = time.time() + oai.repo.token_ttl + 5
    root = oai.handle(("verb", "ListRecords"), (TOKEN, tok), now=later)
    assert errors(root) == ["badResumptionToken"] and "expired" in root.findtext("o:error", namespaces=NS)
    root = oai.get(verb="ListIdentifiers", resumptionToken=tok)
    assert errors(root) == ["badResumptionToken"] and "continues ListRecords" in root.findtext("o:error", namespaces=NS)


def test_token_echoed_only_when_harmless(oai: Oai) -> None:
    tok = first_token(oai)
    assert request_attrs(oai.get(verb="ListRecords", resumptionToken=tok))[TOKEN] == tok
    root = oai.get(verb="ListRecords", resumptionToken='<x a="1">&\'')
    assert TOKEN not in request_attrs(root) and errors(root) == ["badResumptionToken"]


def test_tokens_survive_a_server_restart_and_other_workers(tmp_path: Path) -> None:
    a = make_oai(tmp_path)
    tok = first_token(a)
    b = make_oai(tmp_path)          # a second app on the same store: same key from <store>/oai-secret
    assert not errors(b.get(verb="ListRecords", resumptionToken=tok))
    assert (tmp_path / "store" / "oai-secret").stat().st_mode & 0o077 == 0


def test_configured_secret_signs(tmp_path: Path) -> None:
    a = make_oai(tmp_path, secret="s3cret")
    b = make_oai(tmp_path, secret="other")
    assert errors(b.get(verb="ListRecords", resumptionToken=first_token(a))) == ["badResumptionToken"]


# ----------------------------------------------------------------------------------- hostile input
hostile = st.text(alphabet=st.sampled_from(list("<>&\"'\x00\x01\x0b\x1f\x7f\u2028\ufffe\ud800 é中:=%")
                                           + list(string.ascii_letters[:6])), max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pairs=st.lists(st.tuples(st.sampled_from(["verb", "metadataPrefix", "identifier", "from", "until", "set",
                                                 TOKEN]) | hostile, hostile | st.sampled_from(
    ["ListRecords", "GetRecord", "Identify", "oai_dc", "2026-01-01"])), max_size=5))
def test_hostile_arguments_never_break_the_xml(oai: Oai, pairs: list[tuple[str, str]]) -> None:
    root = valid(handle(pairs, oai.repo))      # valid() parses and XSD-validates
    assert root.find("o:request", NS).text == BASE + "oai"


def test_hostile_input_over_http(oai: Oai) -> None:
    for query in ("verb=%00%3C%3E%26%22%27", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Ax%3A%3C%3E%01",
                  "verb=ListRecords&metadataPrefix=oai_dc&set=%3Cscript%3E", "verb=ListRecords&resumptionToken=%FF%FE",
                  "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:lod.example.org:%22%3E%3C%2F"):
        resp = oai.client.get("/oai?" + query)
        assert resp.status_code == 200
        valid(resp.data)


# ----------------------------------------------------------------------------------- datestamps, identifiers
def test_parse_datestamp() -> None:
    assert parse_datestamp("2026-01-02", end=False) == ("2026-01-02T00:00:00Z", "day")
    assert parse_datestamp("2026-01-02", end=True) == ("2026-01-02T23:59:59Z", "day")
    assert parse_datestamp("2026-01-02T03:04:05Z", end=True) == ("2026-01-02T03:04:05Z", "seconds")
    for bad in ("2026-1-2", "2026-01-02T03:04:05", "2026-01-02T03:04:05.5Z", "2026-01-02T25:00:00Z", "２０２６-01-02"):
        with pytest.raises(ValueError):
            parse_datestamp(bad, end=False)


def test_repository_identifier_from_base_uri() -> None:
    assert repository_identifier("https://lod.example.org/") == "lod.example.org"
    assert repository_identifier("http://Archive.Example.ORG:8080/x/") == "archive.example.org"
    assert repository_identifier("http://127.0.0.1:5000/") == "h127-0-0-1.localhost"
    assert repository_identifier("http://localhost:8080/") == "localhost.localhost"
    assert protocol.DOMAIN_RE.match(repository_identifier("http://[::1]:8080/"))


def test_keys_with_odd_characters_round_trip(tmp_path: Path) -> None:
    recs = [MiniRecord("a b/ü#1", "Odd key", "2026-01-01T00:00:00Z")]
    oai = make_oai(tmp_path, recs)
    ident = oai.ident("a b/ü#1")
    assert protocol.URI_RE.match(ident)
    root = oai.get(verb="GetRecord", identifier=ident, metadataPrefix="oai_dc")
    assert root.findtext(".//dc:title", namespaces=NS) == "Odd key"


# ----------------------------------------------------------------------------------- rebuilds mid-harvest
def rebuild(oai: Oai, recs: list[MiniRecord]) -> None:
    make_store(oai.root / "store", recs, base=BASE)
    EmbeddedStore.refresh(oai.repo.store)


def continue_harvest(oai: Oai, root: object) -> list[tuple[str, str, bool]]:
    out = []
    while True:
        tok = root.find(".//o:resumptionToken", NS)
        if tok is None or not tok.text:
            return out
        root = oai.get(verb="ListIdentifiers", resumptionToken=tok.text)
        assert not errors(root), root.findtext("o:error", namespaces=NS)
        out += [(h.findtext("o:identifier", namespaces=NS), h.findtext("o:datestamp", namespaces=NS),
                 h.get("status") == "deleted") for h in root.iterfind(".//o:header", NS)]


def test_harvest_across_a_rebuild_completes_consistently(oai: Oai) -> None:
    root = oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    first = [(h.findtext("o:identifier", namespaces=NS), h.findtext("o:datestamp", namespaces=NS), False)
             for h in root.iterfind(".//o:header", NS)]
    assert [f[0] for f in first] == [oai.ident(k) for k in ("k0", "k1", "k2")]
    # The rebuild changes k0 (already sent) and k5 (not yet sent), adds k7 and withdraws k6:
    # each gets the rebuild's datestamp, newer than every datestamp before.
    recs = records()
    later = "2026-02-01T00:00:00Z"
    recs[0] = MiniRecord("k0", "Record 0, corrected", later, sets=SETS[:3])
    recs[5] = MiniRecord("k5", "Record 5, corrected", later, sets=SETS)
    recs[6] = MiniRecord("k6", "Record 6", later, deleted=True, sets=SETS[:3])
    recs.append(MiniRecord("k7", "Record 7", later, sets=SETS[:3]))
    rebuild(oai, recs)
    rest = continue_harvest(oai, root)
    got = first + rest
    assert len(set(got)) == len(got), "no record version twice"
    latest = {}
    for ident, stamp, deleted in got:
        latest[ident] = (stamp, deleted)
    assert latest == {oai.ident(r.key): (r.datestamp, r.deleted) for r in recs}, "the harvester ends up current"
    sent = [g[0] for g in got]
    assert sent.count(oai.ident("k0")) == 2                    # old version, then the correction
    assert all(sent.count(oai.ident(k)) == 1 for k in ("k1", "k2", "k3", "k4", "k5", "k6", "k7", "gone"))
    tok = root.find(".//o:resumptionToken", NS)
    assert tok.get("completeListSize") == "8"


def test_unchanged_rebuild_continues_seamlessly(oai: Oai) -> None:
    root = oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    rebuild(oai, records())
    rest = continue_harvest(oai, root)
    assert len(rest) == 5 and len(root.findall(".//o:header", NS)) + len(rest) == 8


@pytest.mark.parametrize("change", ["datestamp regressed", "changed in place", "vanished"])
def test_rebuild_that_would_skip_or_drop_records_gets_bad_token(oai: Oai, change: str) -> None:
    root = oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    recs = records()
    if change == "datestamp regressed":      # a new record stamped before the cursor: would be skipped
        recs.append(MiniRecord("early", "Backdated", "2026-01-01T09:00:00Z"))
    elif change == "changed in place":       # k1 changed but kept its old datestamp
        recs[1] = MiniRecord("k1", "Record 1 changed", recs[1].datestamp, sets=SETS, checksum="different")
    else:                                    # k2 gone without a deleted record
        del recs[2]
    rebuild(oai, recs)
    tok = root.find(".//o:resumptionToken", NS).text
    root = oai.get(verb="ListIdentifiers", resumptionToken=tok)
    assert errors(root) == ["badResumptionToken"]
    assert "rebuilt" in root.findtext("o:error", namespaces=NS)


def test_rebuild_after_the_start_build_is_pruned_gets_bad_token(oai: Oai) -> None:
    root = oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc")
    start_build = oai.repo.store.build
    rebuild(oai, records())
    shutil.rmtree(start_build)
    tok = root.find(".//o:resumptionToken", NS).text
    assert errors(oai.get(verb="ListIdentifiers", resumptionToken=tok)) == ["badResumptionToken"]


def test_settings_are_in_the_table() -> None:
    for name in ("oai_page_size", "oai_token_ttl", "oai_sets", "secret", "edm_rights", "admin_email"):
        assert name in config.BY_NAME


def test_set_specs_the_protocol_cannot_carry_are_left_out(tmp_path: Path) -> None:
    recs = [MiniRecord("k0", "Cyrillic subject", "2026-01-01T00:00:00Z", sets=("subject:советский", "language:ru"))]
    oai = make_oai(tmp_path, recs)
    specs = [e.text for e in oai.get(verb="ListSets").iterfind(".//o:setSpec", NS)]
    assert "subject:советский" not in specs and "language:ru" in specs
    root = oai.get(verb="GetRecord", identifier=oai.ident("k0"), metadataPrefix="oai_dc")
    assert [e.text for e in root.iterfind(".//o:header/o:setSpec", NS)] == ["language:ru"]
    assert errors(oai.get(verb="ListIdentifiers", metadataPrefix="oai_dc", set="subject:советский")) == \
        ["badArgument"]


def test_post_with_repeated_and_mixed_arguments(oai: Oai) -> None:
    resp = oai.client.post("/oai?verb=Identify", data={"verb": "Identify"})
    assert errors(valid(resp.data)) == ["badVerb"]
    resp = oai.client.post("/oai?verb=ListSets", data={})
    assert not errors(valid(resp.data))


def test_bad_admin_email_fails_at_start_up(tmp_path: Path) -> None:
    make_store(tmp_path / "store", records(), base=BASE)
    with pytest.raises(ValueError, match="admin_email"):
        make_oai(tmp_path, admin_email="nobody")
