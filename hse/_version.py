"""The version of hse, in a module that imports nothing, so any module may read it without a cycle."""

__version__ = "0.2.0"
