"""Exceptions raised by hse.

Every error about the caller's data is an :class:`InputError`: its message names the file or the
array (by index or name), says what is wrong, and what to do. The CLI maps it to exit code 2.
"""


class InputError(ValueError):
    """Bad input data: wrong shape, dtype, value range, unreadable or mismatched files."""


class InputWarning(UserWarning):
    """Input that is valid but very likely not what the caller meant (the message says how to fix it)."""
