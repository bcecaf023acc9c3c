"""hse: Holistic SIRST Evaluation."""

__version__ = "0.1.0"
