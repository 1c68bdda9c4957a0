"""Kept for rule packs written before the packages: ``integ_lint.settings`` is now
:mod:`integ_lint.config.settings`, which new code imports."""

from integ_lint.config.settings import *  # noqa: F403
