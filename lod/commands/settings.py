"""`lod settings`: print the settings table (name, flag, environment variable, default, help)."""

from __future__ import annotations

import click

from lod import config


@click.command("settings")
@click.option("--markdown", is_flag=True, help="Print as the Markdown table of docs/settings.md.")
def settings_cmd(markdown: bool) -> None:
    """Show every setting with its flag, environment variable and default."""
    if markdown:
        click.echo(config.markdown_table(), nl=False)
        return
    for s in config.SETTINGS:
        click.echo(f"{s.name:20} {s.env:24} {s.default!s:40.40} {s.help}")
