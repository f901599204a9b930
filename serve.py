"""Serve the published dataset: ``python serve.py [--host H] [--port P] [--store DIR] [--base-uri URI]``.

A thin entry point; the same as ``lod serve``.
"""

from lod.cli import cli

if __name__ == "__main__":
    cli(["serve", *__import__("sys").argv[1:]])
