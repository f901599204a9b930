"""`lod serve`: the production server. Gunicorn (pre-fork, one asyncio worker per core by default)
runs lod.web.asgi.Front around the Flask app; bound to 127.0.0.1:8080 unless told otherwise.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import click

from lod.commands.options import resolve, settings_options


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # not Linux
        return max(1, os.cpu_count() or 1)


def ensure_built(settings: Any) -> str | None:
    """Build the bundled data when the store has no published dataset. Returns a message, or None."""
    from lod.store import Layout

    if str(settings.store).startswith(("http://", "https://")) or Layout(settings.store).current() is not None:
        return None
    from lod.build import build

    report = build(settings)
    published = len(getattr(report, "published", []) or [])
    if getattr(report, "exit_code", 0) not in (0, 1) or Layout(settings.store).current() is None:
        raise click.ClickException(f"the build of {settings.data} into {settings.store} published nothing")
    return f"built {published} record(s) into {settings.store}"


class GunicornApp:
    """A gunicorn BaseApplication whose app is built in each worker (no preload: each opens the store)."""

    def __init__(self, overrides: dict[str, Any], options: dict[str, Any]) -> None:
        from gunicorn.app.base import BaseApplication

        overrides_ = overrides

        class _App(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                for k, v in options.items():
                    self.cfg.set(k, v)

            def load(self) -> Any:
                from lod.web.asgi import create
                return create(overrides_)

        self.app = _App()

    def run(self) -> None:
        self.app.run()


def _preflight(settings: Any, build_if_needed: bool) -> int:
    """Build if asked and needed, then open the store once: a missing or corrupted store is refused (exit
    2, the message names the path) before any worker starts."""
    from lod.store import EmbeddedStore, Layout, StoreError

    embedded = not str(settings.store).startswith(("http://", "https://"))
    try:
        if build_if_needed:
            msg = ensure_built(settings)
            if msg:
                click.echo(msg, err=True)
        elif embedded and Layout(settings.store).current() is None:
            click.echo(f"error: no published dataset in {settings.store}; run `lod build` "
                       "(or `lod serve --build-if-needed`)", err=True)
            return 2
        if embedded:
            EmbeddedStore(settings.store)
    except StoreError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0


def _in_child(task: Callable[[], int]) -> int:
    """``task``'s exit code, run in a forked child where the platform forks.

    Why: gunicorn's arbiter is this process and lives as long as the server. What the check imports and
    allocates (the store engine, RocksDB's caches and table readers; with --build-if-needed a whole
    build) would stay in its memory for nothing: ~45 MB of RSS at 100,000 records, more after a build.
    The workers start from a fresh import anyway (no preload)."""
    if not hasattr(os, "fork"):
        return task()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:       # the child: never returns into click or gunicorn
        code = 70
        try:
            code = task()
        except BaseException:  # noqa: BLE001 - reported here; the parent only sees the exit code
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 70


def _cannot_listen(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, or None: one line and exit 2 at once, where gunicorn would
    retry for 5 s, log five times and exit 1."""
    import socket

    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                          flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        return f"cannot listen on {host}:{port}: {exc}"
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(addr)
        except OSError as exc:
            return f"cannot listen on {host}:{port}: {exc.strerror or exc}"
    return None


@click.command("serve")
@settings_options("store", "base_uri", "data", "host", "port", "workers", "trust_proxy")
@click.option("--build-if-needed", is_flag=True, help="Build the data first when the store has no published dataset.")
@click.option("--access-log/--no-access-log", default=False, help="Log every request to standard error.")
def serve_cmd(build_if_needed: bool, access_log: bool, **values: Any) -> None:
    """Serve the published dataset: Linked Data, SPARQL, OAI-PMH (gunicorn, see docs/deploy.md).

    Exit code 2: no published dataset, or a store that cannot be opened (the message names the path).
    """
    settings = resolve(**values)
    code = _in_child(lambda: _preflight(settings, build_if_needed))
    if code:
        sys.exit(code)
    taken = _cannot_listen(settings.host, settings.port)
    if taken:
        click.echo(f"error: {taken}", err=True)
        sys.exit(2)
    # Settings travel to the workers as explicit overrides: env/defaults resolve the same way there.
    overrides = {k: v for k, v in settings.values.items()}
    workers = settings.workers or default_workers()
    options = {
        "bind": f"{settings.host}:{settings.port}",
        "workers": workers,
        "worker_class": "asgi",
        "worker_connections": 1000,
        "keepalive": 5,
        "timeout": 120,
        "graceful_timeout": 20,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "forwarded_allow_ips": "*" if settings.trust_proxy else "127.0.0.1",
        "proc_name": "lod",
    }
    click.echo(f"serving {settings.store} as {settings.base_uri} on http://{settings.host}:{settings.port}/ "
               f"({workers} worker{'s' if workers != 1 else ''})", err=True)
    GunicornApp(overrides, options).run()
