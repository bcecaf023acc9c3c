"""The command lines of hse, one module per command; no command module imports another.

* :mod:`hse.cli.score` - ``hse-score`` (``python -m hse.cli`` runs it);
* :mod:`hse.cli.merge` - ``hse-score merge`` (the shards of ``hse-score --shard K/N`` combined);
* :mod:`hse.cli.compare` - ``hse-compare`` (also ``python -m hse.stats``);
* :mod:`hse.cli.leaderboard` - ``hse-leaderboard``;
* :mod:`hse.cli.common` - shared options and outputs, :func:`~hse.cli.common.run_cli` (exit codes,
  messages).

:func:`main` is the ``hse-score`` entry point: ``hse-score merge ...`` goes to :mod:`hse.cli.merge`,
anything else to :mod:`hse.cli.score`.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """``hse-score``: the ``merge`` subcommand or scoring; returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] == "merge":
        from hse.cli.merge import main as merge_main

        return merge_main(args[1:])
    from hse.cli.score import main as score_main

    return score_main(args)
