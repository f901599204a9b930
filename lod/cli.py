"""The `lod` command: one group, each subcommand in its own module under lod/commands/.

Exit codes (docs/cli.md): 0 success; 1 some records rejected or some work failed (reported);
2 usage or system error (bad flags, unreadable store, missing files).
"""

from __future__ import annotations

import importlib
import sys

import click

from lod import __version__

# name -> "module:attribute"; imported only when that subcommand runs or --help lists it.
COMMANDS = {
    "import": "lod.commands.importing:import_cmd",
    "build": "lod.commands.building:build_cmd",
    "validate": "lod.commands.building:validate_cmd",
    "query": "lod.commands.querying:query_cmd",
    "reconcile": "lod.commands.reconciling:reconcile_cmd",
    "serve": "lod.commands.serving:serve_cmd",
    "settings": "lod.commands.settings:settings_cmd",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup)
@click.version_option(__version__, prog_name="lod")
def cli() -> None:
    """Publish archival records as Linked Open Data (CIDOC-CRM, Dublin Core, SPARQL, OAI-PMH)."""


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
