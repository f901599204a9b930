"""Flask application factory: ``create_app(config)``; one blueprint per surface.

The web layer only translates HTTP to calls of the core (lod.describe, lod.sparql, lod.oai, lod.dataset)
and back; nothing below lod/web imports Flask.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g

from lod import config
from lod import store as store_module
from lod.store import StoreError, StoreUnavailable
from lod.uris import Minter

# Sent with every response (lod.web.asgi's direct /sparql path sends the same).
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
# Surfaces, each a module exposing ``bp`` (a Blueprint). Order: specific paths before catch-alls.
BLUEPRINTS = (
    "lod.web.sparql",
    "lod.web.oai",
    "lod.web.dataset",
    "lod.web.resources",
)


def open_store(settings: config.Settings) -> Any:
    """The published dataset: embedded directory or remote SPARQL store (see lod.store)."""
    return store_module.open_store(settings)


def create_app(overrides: Mapping[str, Any] | None = None, *, store: Any = None) -> Flask:
    """Build the WSGI app. ``overrides`` are settings by name (see lod.config); the rest come from env/defaults.

    Raises StoreError at start-up if the store cannot be opened: never a half-served dataset.
    """
    settings = config.load(overrides)
    app = Flask("lod.web", template_folder="templates", static_folder="static", static_url_path="/static")
    app.config["LOD_SETTINGS"] = settings
    app.config["LOD_MINTER"] = Minter(settings.base_uri)
    app.config["LOD_STORE"] = store if store is not None else open_store(settings)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Assets by path under the public base (never by absolute URL): same-origin for CSP 'self' however the
    # site is reached (localhost or 127.0.0.1, or through a proxy that keeps the base path).
    app.jinja_env.globals["base_path"] = urlsplit(settings.base_uri).path

    @app.before_request
    def _refresh_store() -> None:
        st = app.config["LOD_STORE"]
        try:
            if hasattr(st, "refresh"):
                st.refresh()
        except StoreError:
            # Keep serving the build we have; a broken new CURRENT must not take the site down.
            app.logger.exception("store refresh failed; still serving %s", getattr(st, "build", "?"))
        g.store = st

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable) -> Response:
        # A remote store that is down for a moment: say so and when to retry; the next request tries again.
        app.logger.warning("store unavailable: %s", exc)
        resp = Response("The data store is temporarily unavailable; please retry shortly.\n", status=503,
                        mimetype="text/plain")
        resp.headers["Retry-After"] = str(getattr(exc, "retry_after", 5))
        resp.headers["Cache-Control"] = "no-store"
        return resp

    @app.after_request
    def _security_headers(resp: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            resp.headers.setdefault(name, value)
        if resp.mimetype == "text/html":
            resp.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https: data:; "
                "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
            )
        return resp

    for name in BLUEPRINTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:   # surface not built yet; any other missing import is a real error
                continue
            raise
        app.register_blueprint(module.bp)
    return app


def settings_of(app: Flask) -> config.Settings:
    return app.config["LOD_SETTINGS"]
