"""Kept for rule packs written before the reorganisation: ``integ_lint.context`` is now
:mod:`integ_lint.facts.context`. New code imports from there."""

from integ_lint.facts.context import *  # noqa: F403
