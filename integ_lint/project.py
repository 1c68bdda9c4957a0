"""Kept for rule packs written before the packages: ``integ_lint.project`` is now
:mod:`integ_lint.model.project`, which new code imports."""

from integ_lint.model.project import *  # noqa: F403
