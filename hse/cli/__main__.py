"""``python -m hse.cli`` runs ``hse-score`` (``python -m hse.cli merge ...`` its merge subcommand)."""

from hse.cli import main

raise SystemExit(main())
