"""hse: Holistic SIRST Evaluation.

Multi-threshold pixel- and target-level evaluation of infrared small target detection, the HSE score,
and exact reproductions of the field's reference toolboxes (see docs/metrics.md).

>>> import hse
>>> result = hse.evaluate(preds, masks)   # doctest: +SKIP
>>> result.hse, result.at(0.5)["pd"]      # doctest: +SKIP
"""

from ._version import __version__
from .errors import InputError, InputWarning, SmallSampleWarning
from .html import result_to_html as _result_to_html
from .merging import merge
from .metric import HSEMetric, evaluate
from .reduce.image import evaluate_image
from .result import Result
from .score import PRESETS
from .settings import EvalConfig
from .stats import bootstrap, compare
from .thresholds import DEFAULT_GRID, UINT8_GRID

# Result.to_html belongs to the report layer (hse.html), which is built on Result: it is bound here, at
# the top of the package, so that hse.result never imports the layers above it (no import cycle).
Result.to_html = _result_to_html

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
