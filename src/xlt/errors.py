"""The one exception type a user sees: its message is the single line the CLI prints."""


class XltError(Exception):
    """Bad input or an unusable environment. The message says what is wrong, where, and what to do."""
