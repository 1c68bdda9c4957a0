"""Shared pytest configuration: hypothesis profiles.

``ci`` (the default) keeps property tests bounded so the suite stays fast; ``deep``
explores much more, on demand::

    python -m pytest tests/test_fuzz.py --hypothesis-profile deep

(``--hypothesis-profile`` is hypothesis's own pytest option; tests that pin
``max_examples`` in their ``@settings`` keep their own numbers.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

_RELAXED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=_RELAXED)
settings.register_profile("deep", max_examples=1000, deadline=None, suppress_health_check=_RELAXED)
settings.load_profile("ci")
