"""Click options generated from the settings table (lod.config.SETTINGS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from lod import config


def settings_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add ``--name`` options for the given settings; values default to None (env/default decide)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name in reversed(names):
            s = config.BY_NAME[name]
            if s.type is config._bool:
                opt = click.option(f"{s.option}/--no-{s.option[2:]}", name, default=None,
                                   help=f"{s.help} [env {s.env}; default {s.default}]")
            else:
                opt = click.option(s.option, name, default=None,
                                   help=f"{s.help} [env {s.env}; default {s.default}]")
            fn = opt(fn)
        return click.option(
            "--setting", "setting_pairs", type=(str, str), multiple=True, metavar="NAME VALUE",
            help="Any setting by name (see `lod settings`), e.g. --setting sparql_timeout 60; repeatable. "
                 "A dedicated flag wins.")(fn)

    return decorate


def resolve(**values: Any) -> config.Settings:
    """Settings from CLI values (None = not given) and ``--setting NAME VALUE`` pairs; an unknown name
    or a bad value is a usage error (exit 2)."""
    given: dict[str, Any] = {}
    for name, value in values.get("setting_pairs") or ():
        key = name.replace("-", "_").lower()
        if key not in config.BY_NAME:
            raise click.UsageError(f"unknown setting {name!r} (`lod settings` lists them)")
        if not config.BY_NAME[key].flag:
            raise click.UsageError(f"{key} is not taken on the command line (other users can read it there); "
                                   f"set {config.BY_NAME[key].env}")
        given[key] = value
    given.update({k: v for k, v in values.items() if k in config.BY_NAME and v is not None})
    try:
        return config.load(given)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


COMMON = ("store", "base_uri", "data")
