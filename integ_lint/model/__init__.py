"""The project model: what integ-lint knows of a whole project, built from facts.

``layout`` finds the source roots and module names; ``project`` holds the
:class:`~integ_lint.model.project.ProjectIndex` (every file's facts, joined, plus
structures derived once per run); ``names`` is the ONE resolver of re-exported names
(``from .impl import f`` in a package ``__init__``, star imports included) that every
structure below uses; ``import_graph`` and ``boundaries`` are the import graph and the
components, public interfaces and contracts over it; ``call_graph`` joins calls to
definitions; ``schema_index`` and ``config_files`` are the config schemas and the
config files that feed them; ``coupling`` is the manager graph; ``messages`` joins
publishers, subscribers and queues.

May import: ``integ_lint.facts``, ``integ_lint.config``, ``integ_lint.findings`` and
``integ_lint.files``. Never rules, the engine, reporters or the command line.
"""
