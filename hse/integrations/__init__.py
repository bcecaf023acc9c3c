"""Integrations with training frameworks; each needs an optional extra and is imported on use.

* :mod:`hse.integrations.torchmetrics` - :class:`~hse.integrations.torchmetrics.HSE`, a
  ``torchmetrics.Metric`` (``pip install 'hse[torch]'``), for training loops, DDP and Lightning.

Only this package imports torch; the metric core (the rest of :mod:`hse`) never does.
"""
