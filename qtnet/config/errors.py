"""The error every config problem raises."""


class ConfigError(ValueError):
    """A config a user must fix: the message names the key, the expected and the actual value."""
