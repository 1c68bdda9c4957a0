"""The built-in rule pack, installed as ``integ_lint.rules``.

One module per family: ``boundaries`` (IL1xx, imports and contracts), ``event_loops``
(IL2xx, with its loop facts in ``_loop_state``), ``config_schema`` (IL3xx), ``gpu``
(IL4xx, a package by concern: ``placement``, ``syncs``, ``handoffs``), ``coupling``
(IL5xx), ``messages`` (IL6xx) and ``suppressions`` (IL001). The registry walks this
package, so adding a rule is adding a class. ``manifest.json`` holds every rule's
metadata so that a run with everything cached imports no rule module: regenerate it
after editing the pack (``python -m integ_lint.engine.registry``; tests/test_manifest.py
fails until then, and a stale manifest is ignored, never trusted).

May import: the rule API (:mod:`integ_lint.rule`, the data of
:mod:`integ_lint.findings.model`, the tables of :mod:`integ_lint.config.settings`),
:mod:`integ_lint.facts` and :mod:`integ_lint.model`. Never the engine, reporters,
baselines, fixes, audit, views or the command line (pyproject.toml's contracts).
"""
