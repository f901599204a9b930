"""OAI-PMH 2.0 data provider, sans HTTP: ``protocol.handle(pairs, repository) -> bytes`` (docs/oai.md)."""

from lod.oai.protocol import Repository, handle

__all__ = ["Repository", "handle"]
