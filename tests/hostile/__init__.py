"""The hostile-input corpus (issue 8): every case is an input with its expected answer.

A package (not a loose folder) so its modules and conftest get their own names (``hostile.*``)
beside tests/conftest.py; the corpus itself is in :mod:`hostile.corpus`.
"""
