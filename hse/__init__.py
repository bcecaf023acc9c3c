"""hse: Holistic SIRST Evaluation.

Multi-threshold pixel- and target-level evaluation of infrared small target detection, the HSE score,
and exact reproductions of the field's reference toolboxes (see docs/metrics.md).

>>> import hse
>>> result = hse.evaluate(preds, masks)   # doctest: +SKIP
>>> result.hse, result.at(0.5)["pd"]      # doctest: +SKIP
"""

from ._version import __version__
from .errors import InputError, InputWarning, SmallSampleWarning
from .merging import merge
from .metric import HSEMetric, evaluate
from .reduce.image import evaluate_image
from .result import Result
from .score import PRESETS
from .settings import EvalConfig
from .stats import bootstrap, compare
from .thresholds import DEFAULT_GRID, UINT8_GRID

__all__ = [
    "DEFAULT_GRID",
    "PRESETS",
    "UINT8_GRID",
    "EvalConfig",
    "HSEMetric",
    "InputError",
    "InputWarning",
    "Result",
    "SmallSampleWarning",
    "bootstrap",
    "compare",
    "evaluate",
    "evaluate_image",
    "merge",
    "__version__",
]
