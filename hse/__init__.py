"""hse: Holistic SIRST Evaluation.

Multi-threshold pixel- and target-level evaluation of infrared small target detection, the HSE score,
and exact reproductions of the field's reference toolboxes (see docs/metrics.md).

>>> import hse
>>> result = hse.evaluate(preds, masks)   # doctest: +SKIP
>>> result.hse, result.at(0.5)["pd"]      # doctest: +SKIP
"""

__version__ = "0.1.0"

from .errors import InputError, InputWarning  # noqa: E402
from .metric import EvalConfig, HSEMetric, evaluate, evaluate_image  # noqa: E402
from .result import Result  # noqa: E402
from .score import PRESETS  # noqa: E402
from .stats import bootstrap, compare  # noqa: E402
from .thresholds import DEFAULT_GRID, UINT8_GRID  # noqa: E402

__all__ = [
    "DEFAULT_GRID",
    "PRESETS",
    "UINT8_GRID",
    "EvalConfig",
    "HSEMetric",
    "InputError",
    "InputWarning",
    "Result",
    "bootstrap",
    "compare",
    "evaluate",
    "evaluate_image",
    "__version__",
]
