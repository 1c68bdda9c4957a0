"""Kept for rule packs written before the packages: ``integ_lint.context`` is now
:mod:`integ_lint.facts.context`, which new code imports."""

from integ_lint.facts.context import *  # noqa: F403
