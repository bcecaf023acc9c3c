"""Leaderboards: score many methods on one or more datasets and rank them by HSE.

One job per module, in the order of a run:

* :mod:`~hse.leaderboard.config` - read and check the TOML configuration;
* :mod:`~hse.leaderboard.cache` - the content-addressed cache of scored results, checked before use;
* :mod:`~hse.leaderboard.runs` - score each (dataset, method) pair through the cache;
* :mod:`~hse.leaderboard.significance` - HSE intervals and tests against the method ranked above;
* :mod:`~hse.leaderboard.ranks` - ranks with ties (tests and intervals against each group's leader);
* :mod:`~hse.leaderboard.table` - the ranked rows;
* :mod:`~hse.leaderboard.render` - Markdown and CSV;
* :mod:`~hse.leaderboard.build` - all of it, written atomically (:func:`run_config`,
  :func:`write_leaderboard` for ready results).

The command ``hse-leaderboard`` is :mod:`hse.cli.leaderboard`; see docs/hse-leaderboard.md.
"""

from .build import run_config, write_leaderboard
from .cache import CACHE_FORMAT, cache_key, source_digest
from .config import PUBLISHED_KEYS, DatasetSpec, LeaderboardConfig, MethodInput, MethodSpec, load_config
from .ranks import assign_ranks, tied_ranks
from .render import CSV_COLUMNS, render_csv, render_markdown
from .runs import Scored, score_method
from .table import leaderboard_rows

__all__ = [
    "CACHE_FORMAT",
    "CSV_COLUMNS",
    "PUBLISHED_KEYS",
    "DatasetSpec",
    "LeaderboardConfig",
    "MethodInput",
    "MethodSpec",
    "Scored",
    "assign_ranks",
    "cache_key",
    "leaderboard_rows",
    "load_config",
    "render_csv",
    "render_markdown",
    "run_config",
    "score_method",
    "source_digest",
    "tied_ranks",
    "write_leaderboard",
]
