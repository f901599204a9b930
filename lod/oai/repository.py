"""The OAI-PMH repository: settings, identifiers, and a consistent view of the published build."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from lod.oai import tokens
from lod.oai.formats import Context
from lod.oai.prepared import Prepared, PreparedFiles, context

DOMAIN_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
_ID_SAFE = "-_.!~*'();/?:@&=+$,"
EMAIL_RE = re.compile(r"^\S+@(\S+\.)+\S+$")      # the OAI-PMH schema's emailType


def repository_identifier(base_uri: str) -> str:
    """The oai-identifier repositoryIdentifier: the base URI's host name (docs/oai.md).

    A host that is not a domain name (``localhost``, an IP address) has none the scheme accepts;
    it becomes ``<host with dots as hyphens>.localhost`` (RFC 6761: local only), e.g.
    ``127.0.0.1`` -> ``h127-0-0-1.localhost``.
    """
    host = (urlsplit(base_uri).hostname or "").lower()
    if DOMAIN_RE.match(host) and not host.replace(".", "").isdigit():
        return host
    label = re.sub(r"[^a-z0-9]+", "-", host).strip("-") or "lod"
    return (label if label[0].isalpha() else "h" + label) + ".localhost"


@dataclass(frozen=True)
class Snapshot:
    """The store's published build as one consistent view for a request (a rebuild may land meanwhile)."""

    catalog: Any          # lod.store.Catalog
    oxigraph: Any         # pyoxigraph.Store
    build: Path           # builds/<id>
    root: Path | None     # the --store directory
    prepared: Prepared | None = None

    @classmethod
    def of(cls, store: Any, prepared: Prepared | None = None) -> Snapshot:
        root = getattr(getattr(store, "layout", None), "root", None)
        return cls(store.catalog, store.oxigraph, Path(store.build), Path(root) if root else None, prepared)


@dataclass
class Repository:
    """Everything a response needs; the store is re-read per request (it may be rebuilt)."""

    store: Any                      # lod.store.EmbeddedStore (live) or, while handling, a Snapshot
    base_url: str                   # {base_uri}oai
    name: str
    admin_email: str
    repo_id: str
    key: bytes
    page_size: int
    token_ttl: int
    sets_enabled: bool
    context: Context
    minter: Any                     # lod.uris.Minter
    settings: Any = None
    prepared: PreparedFiles | None = None

    @classmethod
    def from_settings(cls, settings: Any, store: Any) -> Repository:
        from lod.uris import Minter

        minter = Minter(settings.base_uri)
        root = getattr(getattr(store, "layout", None), "root", None)
        if settings.oai_page_size < 1 or settings.oai_token_ttl < 1:
            raise ValueError("settings oai_page_size and oai_token_ttl must be positive")
        if not EMAIL_RE.match(settings.admin_email):
            raise ValueError(f"setting admin_email ({settings.admin_email!r}) is not an e-mail address; "
                             "OAI-PMH Identify requires one")
        return cls(
            store=store, base_url=settings.base_uri + "oai", name=settings.dataset_title,
            admin_email=settings.admin_email, repo_id=repository_identifier(settings.base_uri),
            key=tokens.signing_key(settings.secret, root), page_size=settings.oai_page_size,
            token_ttl=settings.oai_token_ttl, sets_enabled=settings.oai_sets,
            context=context(settings), minter=minter, settings=settings,
        )

    def snapshot(self) -> Snapshot:
        if self.prepared is None:
            self.prepared = PreparedFiles(self.settings)
        return Snapshot.of(self.store, self.prepared.of(self.store))

    def identifier(self, key: str) -> str:
        return f"oai:{self.repo_id}:{quote(key, safe=_ID_SAFE)}"

    def key_of(self, identifier: str) -> str | None:
        prefix = f"oai:{self.repo_id}:"
        return unquote(identifier[len(prefix):]) if identifier.startswith(prefix) else None

    @property
    def build_id(self) -> str:
        return self.store.build.name
