"""`lod settings`: print the settings table (name, flag, environment variable, default, help)."""

from __future__ import annotations

import importlib

import click

from lod import config


@click.command("settings")
@click.option("--markdown", is_flag=True, help="Print as the Markdown table of docs/settings.md.")
def settings_cmd(markdown: bool) -> None:
    """Show every setting with its flag, environment variable and default."""
    if markdown:
        click.echo(config.markdown_table(flags_by_setting()), nl=False)
        return
    for s in config.SETTINGS:
        click.echo(f"{s.name:20} {s.env:24} {s.default!s:40.40} {s.help}")


def flags_by_setting() -> dict[str, list[str]]:
    """For each setting, the commands that have a flag of its own for it: read off the commands themselves."""
    from lod.cli import COMMANDS

    out: dict[str, list[str]] = {}
    for name, target in sorted(COMMANDS.items()):
        module, _, attr = target.partition(":")
        command = getattr(importlib.import_module(module), attr)
        for param in command.params:
            if isinstance(param, click.Option) and param.name in config.BY_NAME:
                out.setdefault(param.name, []).append(name)
    return out
