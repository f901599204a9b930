"""Linked Open Data publisher for archives."""

__version__ = "0.1.0"
