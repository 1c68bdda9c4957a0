"""integ-lint: static analysis for integration defects in Python codebases.

The packages are the stages of a run, top to bottom (docs/architecture.md):
``cli`` (one module per command) and ``api`` over ``audit`` and ``views``, over the
``engine`` (discovery, the one traversal, executor, cache, the pipeline), which runs
the rule pack ``rules`` written against the rule API ``rule``, over the project
``model``, over per-file ``facts``, over ``config``, ``findings`` and ``files``.
A layer imports only the layers below it; ``.ci/self-check`` enforces it with
integ-lint itself.
"""

__version__ = "0.1.0"
