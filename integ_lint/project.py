"""Kept for rule packs written before the reorganisation: ``integ_lint.project`` is now
:mod:`integ_lint.model.project`. New code imports from there."""

from integ_lint.model.project import *  # noqa: F403
