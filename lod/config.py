"""One settings table drives CLI flags, environment variables and docs/settings.md.

Each setting has a name, a default, a type and a help text. A value is resolved as: explicit
argument (CLI flag or ``create_app(config)`` key) > environment variable ``LOD_<NAME>`` > default.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    type: Callable[[str], Any] = str
    flag: bool = True  # exposed as a --flag on the commands that take it

    @property
    def env(self) -> str:
        return "LOD_" + self.name.upper()

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")


def _bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _list(value: str | list[str]) -> list[str]:
    if isinstance(value, list):
        return value
    return [v.strip() for v in value.split(",") if v.strip()]


SETTINGS: list[Setting] = [
    # --- where things are ---
    Setting("base_uri", "http://localhost:8080/", "Base URI of every minted IRI; must end with '/'."),
    Setting("store", "var/store", "Embedded store directory, or a remote SPARQL store URL (see docs/deploy.md)."),
    Setting("data", "data", "Data folder: records/, authority.yaml, sources/."),
    # --- remote SPARQL store (issue: scale) ---
    Setting("store_update", "", "Remote store: SPARQL Update or Graph Store Protocol endpoint for loading."),
    Setting("store_user", "", "Remote store: user name for HTTP digest/basic authentication."),
    Setting("store_password", "", "Remote store: password (prefer the environment variable)."),
    Setting("store_protocol", "sparql", "Remote store: how `lod build` loads graphs: 'sparql' (SPARQL 1.1 Update) or 'gsp' (Graph Store Protocol)."),
    Setting("store_dumps", "var/dumps", "Remote store: folder holding the dataset dumps (shared by the web nodes)."),
    # --- serving ---
    Setting("host", "127.0.0.1", "Interface the server binds to."),
    Setting("port", 8080, "TCP port the server binds to.", int),
    Setting("workers", 0, "Server worker processes; 0 means one per CPU core.", int),
    Setting("trust_proxy", False, "Trust X-Forwarded-* headers (set behind a reverse proxy).", _bool),
    Setting("inverse_page_size", 100, "Inverse links (documents citing a person) per description page.", int),
    Setting("people_page_size", 200, "Entries per page of the people, places and organisations index (/browse/people).", int),
    Setting("cache_max_age", 3600, "Cache-Control max-age, in seconds, for data documents.", int),
    Setting("response_cache_mb", 16, "Memory, in MiB, for whole responses kept per server process (data documents, 303s, VoID); 0 disables. Raise it for a small hot set of pages without a cache in front.", int),
    # --- dataset metadata ---
    Setting("dataset_title", "Cold War diplomatic records as Linked Open Data", "Dataset title (VoID, DCAT, OAI Identify)."),
    Setting("publisher", "History and Public Policy Program digital archive", "Publisher / data provider name."),
    Setting("licence", "http://creativecommons.org/licenses/by/4.0/", "Licence IRI of the dataset metadata."),
    Setting("edm_rights", "http://rightsstatements.org/vocab/InC-EDU/1.0/", "edm:rights IRI (rightsstatements.org or Creative Commons)."),
    Setting("admin_email", "archive@example.org", "Contact e-mail (OAI-PMH Identify adminEmail)."),
    # --- SPARQL endpoint ---
    Setting("sparql_timeout", 30.0, "Per-query time limit in seconds; the query is really stopped.", float),
    Setting("sparql_max_rows", 10000, "Result row cap; a truncated result says so.", int),
    Setting("sparql_workers", 1, "Query worker processes per server process (one server process per core already gives one per core; each holds its own store caches).", int),
    Setting("sparql_worker_max_mb", 160, "A query worker past this RSS (MB) after an answer closes its store, freeing what a heavy query cached (reopened on its next query); one still past it retires and a fresh worker starts. 0: never.", int),
    Setting("sparql_worker_idle_exit_s", 60.0, "A query worker unused this long (seconds) exits, freeing its memory (~35 MB, more with a warm store); the next query starts one, ~0.1 s. 0: workers stay.", float),
    Setting("sparql_queue", 16, "Queries waiting for a worker before 503 + Retry-After.", int),
    Setting("sparql_result_cache", True, "Answer a repeated GET query (same text, Accept and published build) from the response cache; never for SERVICE, NOW(), RAND(), UUID(), STRUUID(), BNODE().", _bool),
    Setting("max_body", 1_000_000, "Largest accepted request body, in bytes.", int),
    Setting("service_allowlist", "https://query.wikidata.org/sparql", "Comma-separated SERVICE endpoints a query may call.", _list),
    Setting("service_timeout", 10.0, "Time limit, in seconds, of one SERVICE call.", float),
    Setting("query_log", "", "File to append the query log to (JSON lines); empty: standard error."),
    # --- OAI-PMH ---
    Setting("oai_page_size", 100, "Records per OAI-PMH list response.", int),
    Setting("oai_token_ttl", 86400, "Lifetime of an OAI-PMH resumption token, in seconds.", int),
    Setting("oai_sets", True, "Offer OAI-PMH sets (archive, language, subject).", _bool),
    Setting("secret", "", "Key that signs resumption tokens; empty: derived from the store.", flag=False),
    # --- Wikidata ---
    Setting("contact", "", "Contact URL or e-mail sent in the User-Agent to Wikidata (required online)."),
    Setting("wikidata_api", "https://www.wikidata.org/w/api.php", "Wikidata Action API URL."),
    Setting("wikidata_sparql", "https://query.wikidata.org/sparql", "Wikidata Query Service URL."),
    Setting("reconcile_service", "", "W3C Reconciliation Service API endpoint (alternative back end)."),
    Setting("cache_dir", "var/cache", "On-disk cache of Wikidata answers."),
    Setting("offline", False, "Use the cache only; never call Wikidata.", _bool),
    Setting("wikidata_timeout", 30.0, "Read timeout, in seconds, of one Wikidata request (connect: 5 s).", float),
    Setting("wikidata_retries", 4, "Retries of a Wikidata request after 429/503/5xx/maxlag/timeout.", int),
    Setting("wikidata_backoff", 1.0, "First backoff sleep in seconds, doubled per retry (capped at 60 s).", float),
    Setting("build_workers", 0, "Processes that map and validate records in `lod build`; 0 means one per CPU core.", int),
    Setting("disk_headroom_mb", 512, "Free disk, in MiB, `lod build` keeps beside what it projects the new build to take (from the first records' N-Triples, about 2.2 bytes on disk a byte); when the projection does not fit it stops early, exit 2, nothing published. -1: no check.", int),
    Setting("describe_at_build", True, "`lod build` describes every document and writes its Turtle once (about 1 ms a document, split over the build workers), so dereferencing reads one row; off, documents are described per request.", _bool),
]

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


@dataclass
class Settings:
    """Resolved settings. Attribute access: ``settings.base_uri``."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        if name == "values":    # not set yet (unpickling, for the build's workers): no recursion
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes: Any) -> Settings:
        return Settings({**self.values, **changes})


def load(overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve every setting: overrides (None means unset) > environment > default."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = overrides.get(s.name)
        if raw is None and s.env in environ:
            raw = environ[s.env]
        if raw is None:
            # defaults are written as they would be typed: parse them like any other value
            raw = s.default
        try:
            values[s.name] = raw if not isinstance(raw, str) else s.type(raw)
        except ValueError as exc:
            raise ValueError(f"setting {s.name} ({s.option} / {s.env}): {exc}") from exc
    base = values["base_uri"]
    if not base.endswith("/"):
        values["base_uri"] = base + "/"
    return Settings(values)


def markdown_table(commands: Mapping[str, list[str]]) -> str:
    """The settings table as Markdown, for docs/settings.md. ``commands``: by setting, the commands that
    have a flag of its own for it (every setting-reading command also takes ``--setting NAME VALUE``)."""
    rows = ["| Setting | Flag | Environment | Default | Meaning |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        where = commands.get(s.name)
        flag = (f"`{s.option}` ({', '.join(where)})" if where else f"`--setting {s.name} …`") if s.flag else ""
        rows.append(f"| {s.name} | {flag} | `{s.env}` | `{s.default}` | {s.help} |")
    return "\n".join(rows) + "\n"
