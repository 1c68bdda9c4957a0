"""Per-file facts: what one file says, distilled in the single traversal.

``context`` is what a rule or collector sees of the file it visits
(:class:`~integ_lint.facts.context.FileContext`: module, role, config, import aliases,
scope, positions from ``positions``); ``syntax`` walks a tree read-only; ``collector``
is the base of every fact collector; ``records`` the shape shared by the call and
manager records (tuples declared like dataclasses, the site flattened into six fields
declared once, pickled as plain tuples).
Each other module is one family's collector and the small picklable values it returns
(``imports``, ``calls``, ``managers``, ``schemas``, ``messages``, ``gpu``, with the
torch vocabulary in ``torch``). Facts never depend on configuration that is not part
of the cache key, and never hold syntax nodes, so they can be cached by content.

May import: ``integ_lint.config``, ``integ_lint.findings`` and ``integ_lint.files``.
Never the project model, rules, the engine or anything above.
"""
