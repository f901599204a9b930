"""Web surfaces (Flask): the only layer that imports Flask; see app.py."""
