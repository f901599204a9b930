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
        return fn

    return decorate


def resolve(**values: Any) -> config.Settings:
    """Settings from CLI values (None = not given); a bad value is a usage error (exit 2)."""
    try:
        return config.load({k: v for k, v in values.items() if k in config.BY_NAME})
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


COMMON = ("store", "base_uri", "data")
