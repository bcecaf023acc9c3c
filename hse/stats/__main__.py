"""``python -m hse.stats`` runs ``hse-compare``, as it did before the command moved to :mod:`hse.cli`."""

from hse.cli.compare import main

raise SystemExit(main())
