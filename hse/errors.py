"""Exceptions and warnings raised by hse.

Every error about the caller's data is an :class:`InputError`: its message names the file or the
array (by index or name), says what is wrong, and what to do. The commands map it to exit code 2.
"""


class InputError(ValueError):
    """Bad input data: wrong shape, dtype, value range, unreadable or mismatched files."""


class InputWarning(UserWarning):
    """Input that is valid but very likely not what the caller meant (the message says how to fix it)."""


class SmallSampleWarning(UserWarning):
    """Statistics from fewer images than they need to be reliable (see docs/statistics.md).

    A class of its own so that a caller (the leaderboard, which gives one note per table) can silence
    exactly this warning and no other."""
