"""Configuration: what the user asked for, validated before anything runs.

``loader`` finds and reads ``[tool.integ-lint]`` (with ``extend``) into a
:class:`Config`; ``settings`` declares every table and key with its type, default and
checks; ``errors`` is :class:`ConfigError`; ``roots`` checks the configured source
roots; ``roles`` turns the role globs into a file's role; ``contracts`` parses the
boundaries table's import contracts; ``importlinter`` adopts import-linter's;
``gpu_allowlist`` parses and matches the GPU sync allowlist.

May import: ``integ_lint.findings`` (the data model) and ``integ_lint.files`` only.
"""

# Re-exported: the names callers imported from here before the package existed.
from integ_lint.config.loader import (  # noqa: F401
    Config,
    ConfigError,
    find_config_file,
    load_config,
    tomllib,
)
