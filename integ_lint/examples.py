"""Kept for rule packs written before the packages: ``integ_lint.examples`` (running a
rule's ``VALID``/``INVALID`` examples) is now :mod:`integ_lint.engine.examples`, which
new code imports."""

from integ_lint.engine.examples import *  # noqa: F403
