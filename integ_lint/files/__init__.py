"""Files on disk: how integ-lint reads, matches and writes them.

``source`` reads a file safely (regular files only, a size limit) and decodes it as
Python does (PEP 263 cookie, BOM); ``globs`` matches relative paths against ruff-style
globs; ``atomic`` replaces a file atomically and never follows a link out of place.

May import: the standard library only. Every other package may import this one.
"""
