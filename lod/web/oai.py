"""OAI-PMH at ``/oai``: HTTP GET or POST (application/x-www-form-urlencoded) to lod.oai.protocol.

Protocol errors are ``<error>`` elements in an HTTP 200 response (OAI-PMH 2.0, 3.6); only HTTP-level
problems (a POST body of another media type) get an HTTP error status.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from lod.oai.protocol import Repository, handle

bp = Blueprint("oai", __name__)


@bp.record_once
def _check_settings(state) -> None:  # noqa: ANN001 - flask BlueprintSetupState
    """Fail at start-up, not at the first harvest, on a bad edm_rights or page size."""
    app = state.app
    app.config["LOD_OAI"] = Repository.from_settings(app.config["LOD_SETTINGS"], app.config["LOD_STORE"])


@bp.route("/oai", methods=["GET", "POST"])
def oai() -> Response:
    if request.method == "POST" and request.mimetype != "application/x-www-form-urlencoded" \
            and (request.content_length or request.mimetype):
        return Response("OAI-PMH POST requests must be application/x-www-form-urlencoded\n", status=415,
                        mimetype="text/plain")
    pairs = list(request.args.items(multi=True))
    if request.method == "POST":
        pairs += list(request.form.items(multi=True))
    body = handle(pairs, current_app.config["LOD_OAI"])
    resp = Response(body, status=200, content_type="text/xml; charset=utf-8")
    resp.headers["Cache-Control"] = "no-store"
    return resp
