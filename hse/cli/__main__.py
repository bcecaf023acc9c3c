"""``python -m hse.cli`` runs ``hse-score``."""

from hse.cli.score import main

raise SystemExit(main())
