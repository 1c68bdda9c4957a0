"""Kept for rule packs written before the reorganisation: ``integ_lint.settings`` is now
:mod:`integ_lint.config.settings`. New code imports from there."""

from integ_lint.config.settings import *  # noqa: F403
