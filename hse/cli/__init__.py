"""The command lines of hse, one module per command; no command module imports another.

* :mod:`hse.cli.score` - ``hse-score`` (``python -m hse.cli`` runs it);
* :mod:`hse.cli.compare` - ``hse-compare`` (also ``python -m hse.stats``);
* :mod:`hse.cli.leaderboard` - ``hse-leaderboard``;
* :mod:`hse.cli.common` - shared options, :func:`~hse.cli.common.run_cli` (exit codes, messages).
"""
