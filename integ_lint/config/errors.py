"""The one error of configuration: bad input named with its file and key (exit 2)."""


class ConfigError(Exception):
    """A configuration problem, as one line naming the file and the key."""
