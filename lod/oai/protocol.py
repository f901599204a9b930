"""OAI-PMH 2.0 protocol, sans HTTP: request arguments in, response XML out (docs/oai.md).

``handle(pairs, repo)`` takes the request's arguments as (name, value) pairs (so a repeated
argument is visible) and returns the complete response document. Every protocol error is an
``<error code=…>`` in the body; the web layer answers HTTP 200 either way. The ``<request>``
element echoes arguments only when the request was valid (spec 3.2: never after badVerb or
badArgument) and only values that are valid for their attribute type, and lxml escapes all text,
so no input can break the XML.

Lists are keyset-paged over the catalog by (datestamp, key); a page reads ``page_size + 1`` rows
and nothing else, so memory is flat whatever the repository size.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lxml import etree

from lod.oai import resume, tokens
from lod.oai.formats import FORMATS, XSI, RecordView, StoreSource, xml_text
from lod.oai.repository import DOMAIN_RE, Repository, Snapshot, repository_identifier
from lod.store import CatalogEntry

__all__ = ["handle", "parse", "parse_datestamp", "Repository", "Snapshot", "repository_identifier", "DOMAIN_RE",
           "OAIError"]

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_ID = "http://www.openarchives.org/OAI/2.0/oai-identifier"
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
SET_SPEC_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_SECONDS = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")
PARENT_SETS = {"archive": "Archives", "language": "Languages", "subject": "Subjects"}

LIST_VERBS = ("ListIdentifiers", "ListRecords")
# verb -> (required, optional); verbs in EXCLUSIVE also take resumptionToken alone.
ARGUMENTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
}
EXCLUSIVE = {"ListSets", "ListIdentifiers", "ListRecords"}


class OAIError(Exception):
    """One or more protocol errors; ``echo`` is False for badVerb/badArgument (spec 3.2)."""

    def __init__(self, errors: list[tuple[str, str]], echo: bool = True) -> None:
        super().__init__("; ".join(f"{c}: {m}" for c, m in errors))
        self.errors = errors
        self.echo = echo


def _err(code: str, message: str) -> OAIError:
    return OAIError([(code, message)], echo=code not in ("badVerb", "badArgument"))


def shown(value: str, limit: int = 80) -> str:
    """A user-supplied value fit for an error message: XML-safe, control characters visible, bounded."""
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in value[:limit])
    return "'" + xml_text(text) + ("…'" if len(value) > limit else "'")


# ----------------------------------------------------------------------------------- datestamps
def stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def parse_datestamp(value: str, *, end: bool) -> tuple[str, str]:
    """A from/until value -> (seconds-granularity datestamp, granularity); ValueError if malformed.

    A day covers the whole day: ``from=2026-11-22`` is 00:00:00, ``until=2026-11-22`` is 23:59:59.
    """
    if _DAY.match(value):
        datetime.strptime(value, "%Y-%m-%d")
        return value + ("T23:59:59Z" if end else "T00:00:00Z"), "day"
    if _SECONDS.match(value):
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        return value, "seconds"
    raise ValueError(value)



# ----------------------------------------------------------------------------------- request
@dataclass
class Request:
    verb: str
    args: dict[str, str]
    start: str | None = None
    until: str | None = None
    # metadata already serialised (prepared at build time, or rendered now): spliced in after serialisation
    splices: list[bytes] = field(default_factory=list)


def parse(pairs: Sequence[tuple[str, str]]) -> Request:
    """Check the verb and its arguments; every problem found is reported at once."""
    verbs = [v for k, v in pairs if k == "verb"]
    if not verbs:
        raise _err("badVerb", "the verb argument is missing")
    if len(verbs) > 1:
        raise _err("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in ARGUMENTS:
        raise _err("badVerb", f"{shown(verb)} is not an OAI-PMH verb")
    errors: list[str] = []
    counts = Counter(k for k, _ in pairs if k != "verb")
    args = {k: v for k, v in pairs if k != "verb"}
    required, optional = ARGUMENTS[verb]
    allowed = required | optional | ({"resumptionToken"} if verb in EXCLUSIVE else set())
    errors += [f"argument {shown(k)} is repeated" for k, n in counts.items() if n > 1 and k in allowed]
    errors += [f"{shown(k)} is not an argument of {verb}" for k in args if k not in allowed]
    if "resumptionToken" in args and verb in EXCLUSIVE:
        others = sorted(k for k in args if k != "resumptionToken" and k in allowed)
        if others:
            errors.append(f"resumptionToken is exclusive; it cannot come with {', '.join(others)}")
    else:
        errors += [f"{verb} requires the argument {r}" for r in sorted(required) if r not in args]
    req = Request(verb, args)
    if "metadataPrefix" in args and not PREFIX_RE.match(args["metadataPrefix"]):
        errors.append(f"metadataPrefix {shown(args['metadataPrefix'])} has illegal syntax")
    if "set" in args and not SET_SPEC_RE.match(args["set"]):
        errors.append(f"set {shown(args['set'])} is not a setSpec")
    if "identifier" in args and not URI_RE.match(args["identifier"]):
        errors.append(f"identifier {shown(args['identifier'])} is not a URI")
    grains = {}
    for name in ("from", "until"):
        if name in args:
            try:
                value, grains[name] = parse_datestamp(args[name], end=name == "until")
            except ValueError:
                errors.append(f"{name} {shown(args[name])} is not a date YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")
                continue
            setattr(req, "start" if name == "from" else "until", value)
    if len(set(grains.values())) == 2:
        errors.append("from and until have different granularities")
    elif req.start and req.until and req.until < req.start:
        errors.append("until is earlier than from")
    if errors:
        raise OAIError([("badArgument", e) for e in errors], echo=False)
    return req


# ----------------------------------------------------------------------------------- response
_TAGS: dict[str, str] = {}


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    tag = _TAGS.get(name) or _TAGS.setdefault(name, f"{{{OAI}}}{name}")
    e = etree.SubElement(parent, tag, attrs) if attrs else etree.SubElement(parent, tag)
    if text is not None:
        e.text = text
    return e


_SPLICE = re.compile(rb"<\?lod-metadata ([0-9]+)\?>")


def envelope(repo: Repository, now: float, request: Request | None, body: list[etree._Element]) -> bytes:
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    _el(root, "responseDate", stamp(now))
    attrs = {}
    if request is not None:
        attrs["verb"] = request.verb
        for k, v in request.args.items():
            if k != "resumptionToken" or tokens.TOKEN_RE.match(v):
                attrs[k] = v
    _el(root, "request", repo.base_url, **attrs)
    root.extend(body)
    out = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if request is not None and request.splices:
        # Only our own processing instructions match: lxml and lod.oai.xmlout escape every '<' in values.
        out = _SPLICE.sub(lambda m: request.splices[int(m.group(1))], out)
    return out


def handle(pairs: Sequence[tuple[str, str]], repo: Repository, now: float | None = None) -> bytes:
    """The response document for one OAI-PMH request."""
    now = time.time() if now is None else now
    repo = replace(repo, store=repo.snapshot())
    request = None
    try:
        request = parse(pairs)
        body = [VERBS[request.verb](request, repo, now)]
    except OAIError as exc:
        errors = []
        for code, message in exc.errors:
            e = etree.Element(f"{{{OAI}}}error", code=code)
            e.text = message
            errors.append(e)
        return envelope(repo, now, request if exc.echo else None, errors)
    return envelope(repo, now, request, body)


# ----------------------------------------------------------------------------------- verbs
def identify(req: Request, repo: Repository, now: float) -> etree._Element:
    cat = repo.store.catalog
    out = etree.Element(f"{{{OAI}}}Identify")
    _el(out, "repositoryName", repo.name)
    _el(out, "baseURL", repo.base_url)
    _el(out, "protocolVersion", "2.0")
    _el(out, "adminEmail", repo.admin_email)
    _el(out, "earliestDatestamp", cat.earliest() or cat.meta().get("built_at") or stamp(now))
    _el(out, "deletedRecord", "persistent")
    _el(out, "granularity", GRANULARITY)
    desc = _el(out, "description")
    oid = etree.SubElement(desc, f"{{{OAI_ID}}}oai-identifier", nsmap={None: OAI_ID})
    oid.set(f"{{{XSI}}}schemaLocation", f"{OAI_ID} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")
    first = next(iter(cat.page(limit=1)), None)
    for name, text in (("scheme", "oai"), ("repositoryIdentifier", repo.repo_id), ("delimiter", ":"),
                       ("sampleIdentifier", repo.identifier(first.key if first else "116814"))):
        etree.SubElement(oid, f"{{{OAI_ID}}}{name}").text = text
    return out


def _entry(req: Request, repo: Repository) -> CatalogEntry:
    ident = req.args["identifier"]
    key = repo.key_of(ident)
    entry = repo.store.catalog.get(key) if key else None
    if entry is None:
        raise _err("idDoesNotExist", f"no record has the identifier {shown(ident)}")
    return entry


def _format(prefix: str) -> Any:
    fmt = FORMATS.get(prefix)
    if fmt is None:
        raise _err("cannotDisseminateFormat", f"metadataPrefix {shown(prefix)} is not offered; "
                   f"offered: {', '.join(FORMATS)}")
    return fmt


def list_metadata_formats(req: Request, repo: Repository, now: float) -> etree._Element:
    if "identifier" in req.args and _entry(req, repo).deleted:
        raise _err("noMetadataFormats", "the record is deleted; no metadata format can disseminate it")
    out = etree.Element(f"{{{OAI}}}ListMetadataFormats")
    for fmt in FORMATS.values():
        mf = _el(out, "metadataFormat")
        _el(mf, "metadataPrefix", fmt.prefix)
        _el(mf, "schema", fmt.schema)
        _el(mf, "metadataNamespace", fmt.namespace)
    return out


def valid_sets(specs: list[str]) -> list[str]:
    return [s for s in specs if SET_SPEC_RE.match(s)]


def list_sets(req: Request, repo: Repository, now: float) -> etree._Element:
    if not repo.sets_enabled:
        raise _err("noSetHierarchy", "this repository does not offer sets")
    if "resumptionToken" in req.args:
        raise _err("badResumptionToken", "ListSets is complete in one response; no token was issued")
    sets = {s: n for s, n in repo.store.catalog.sets().items() if SET_SPEC_RE.match(s)}
    for spec in list(sets):
        parent = spec.split(":")[0]
        if parent != spec and parent not in sets:
            sets[parent] = PARENT_SETS.get(parent, parent)
    if not sets:
        raise _err("noSetHierarchy", "this repository has no sets")
    out = etree.Element(f"{{{OAI}}}ListSets")
    for spec in sorted(sets):
        s = _el(out, "set")
        _el(s, "setSpec", spec)
        _el(s, "setName", xml_text(sets[spec]) or spec)
    return out


def _header(parent: etree._Element, entry: CatalogEntry, repo: Repository) -> None:
    h = _el(parent, "header", status="deleted") if entry.deleted else _el(parent, "header")
    _el(h, "identifier", repo.identifier(entry.key))
    _el(h, "datestamp", entry.datestamp)
    if repo.sets_enabled:
        for spec in valid_sets(entry.sets):
            _el(h, "setSpec", spec)


def _record(req: Request, parent: etree._Element, entry: CatalogEntry, fmt: Any, repo: Repository, cache: dict,
            ready: dict[str, bytes]) -> None:
    rec = _el(parent, "record")
    _header(rec, entry, repo)
    if entry.deleted:
        return
    md = _el(rec, "metadata")
    blob = ready.get(entry.key)
    if blob is None:
        source = StoreSource(repo.store.oxigraph, entry.graph, repo.minter.ontology_graph, cache)
        blob = fmt.render(RecordView.read(source, repo.minter.document(entry.key)), repo.context)
    md.append(etree.PI("lod-metadata", str(len(req.splices))))     # the serialised format goes here
    req.splices.append(blob)


def _prepared(repo: Repository, entries: list[CatalogEntry], prefix: str) -> dict[str, bytes]:
    if repo.store.prepared is None:
        return {}
    return repo.store.prepared.get([e.key for e in entries if not e.deleted], prefix)


def get_record(req: Request, repo: Repository, now: float) -> etree._Element:
    fmt = _format(req.args["metadataPrefix"])
    entry = _entry(req, repo)
    out = etree.Element(f"{{{OAI}}}GetRecord")
    _record(req, out, entry, fmt, repo, {}, _prepared(repo, [entry], fmt.prefix))
    return out


def list_records(req: Request, repo: Repository, now: float) -> etree._Element:
    cat = repo.store.catalog
    if "resumptionToken" in req.args:
        tok = _continue(req, repo, now)
        prefix, set_spec, start, until = tok.prefix, tok.set_spec, tok.start, tok.until
        after, cursor, size = tok.after, tok.cursor, tok.size
    else:
        prefix, set_spec, start, until = req.args["metadataPrefix"], req.args.get("set"), req.start, req.until
        after, cursor = None, 0
    fmt = _format(prefix)
    if set_spec and not repo.sets_enabled:
        raise _err("noSetHierarchy", "this repository does not offer sets")
    if after is None:
        size = cat.count(start=start, until=until, set_spec=set_spec)
    rows = cat.page(start=start, until=until, set_spec=set_spec, after=after, limit=repo.page_size + 1)
    more, rows = len(rows) > repo.page_size, rows[: repo.page_size]
    if not rows:
        raise _err("noRecordsMatch", "no records match the request" if after is None
                   else "no records remain after the dataset was rebuilt")
    out = etree.Element(f"{{{OAI}}}{req.verb}")
    cache: dict = {}
    ready = _prepared(repo, rows, fmt.prefix) if req.verb == "ListRecords" else {}
    for entry in rows:
        if req.verb == "ListRecords":
            _record(req, out, entry, fmt, repo, cache, ready)
        else:
            _header(out, entry, repo)
    size = max(size, cursor + len(rows))
    if more or cursor:
        attrs = {"completeListSize": str(size), "cursor": str(cursor)}
        if more:
            last = rows[-1]
            tok = tokens.Token(verb=req.verb, prefix=prefix, set_spec=set_spec, start=start, until=until,
                               after=(last.datestamp, last.key), cursor=cursor + len(rows), size=size,
                               build=repo.build_id, issued=int(now), expires=int(now) + repo.token_ttl)
            attrs["expirationDate"] = stamp(tok.expires)
            _el(out, "resumptionToken", tokens.encode(tok, repo.key), **attrs)
        else:
            _el(out, "resumptionToken", **attrs)
    return out


# ----------------------------------------------------------------------------------- rebuilds
def _continue(req: Request, repo: Repository, now: float) -> tokens.Token:
    """Decode a token; if the dataset was rebuilt since, prove the cursor still means the same."""
    try:
        tok = tokens.decode(req.args["resumptionToken"], repo.key, now)
    except tokens.TokenError as exc:
        raise _err("badResumptionToken", str(exc)) from None
    if tok.verb != req.verb:
        raise _err("badResumptionToken", f"this resumption token continues {tok.verb}, not {req.verb}")
    if tok.build == repo.build_id:
        return tok
    problem = resume.rebuilt_since(repo, tok)
    if problem:
        raise _err("badResumptionToken", f"the dataset was rebuilt during this harvest and {problem}; "
                   "restart the harvest (an incremental harvest from its start time is enough)")
    remaining = repo.store.catalog.count(start=tok.start, until=tok.until, set_spec=tok.set_spec) - \
        resume.count_upto(repo, tok)
    return tokens.Token(**{**tok.__dict__, "size": tok.cursor + remaining, "build": repo.build_id})


VERBS: dict[str, Callable[[Request, Repository, float], etree._Element]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_records,
    "ListRecords": list_records,
}
