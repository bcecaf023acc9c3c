"""The evaluation settings: their names, defaults, validation and help text, in one place.

:class:`EvalConfig` is the validated set used by every evaluation. :data:`OPTIONS` describes each setting
once (default, help, how a command-line value is read, how a configuration-file value is checked); the
argument parsers of ``hse-score`` and ``hse-compare`` are built from it (:func:`add_eval_options`) and
``hse-leaderboard`` checks its ``[settings]`` and dataset entries with :func:`check_value`.
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ._version import __version__
from .errors import InputError
from .reduce.matching import MATCH_RULES
from .score import get_preset
from .thresholds import ThresholdSpec, check_operating_threshold, resolve_thresholds, with_operating_point

# --------------------------------------------------------------------------------------------------
# reading a value given as text (command line) or as a number (Python, configuration files)
# --------------------------------------------------------------------------------------------------


def parse_thresholds(text: str) -> str | list[float]:
    """``default``, ``uint8``, a comma list (``0.1,0.5,0.9``) or ``start:stop:step``.

    A range includes ``stop`` when it lands on the grid (within 1e-9); values are rounded to 12
    decimals so that ``0.1:0.3:0.1`` gives exactly 0.1, 0.2, 0.3. Raises
    :class:`argparse.ArgumentTypeError` (a ``ValueError``) saying what is wrong.
    """
    s = text.strip()
    if s in ("default", "uint8"):
        return s
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 3:
            raise argparse.ArgumentTypeError(
                f"invalid range {text!r}; use START:STOP:STEP, e.g. 0.05:0.95:0.05"
            )
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"invalid range {text!r}; START, STOP and STEP must be numbers"
            ) from None
        if not all(math.isfinite(x) for x in (start, stop, step)) or step <= 0 or stop < start:
            raise argparse.ArgumentTypeError(f"invalid range {text!r}; need START <= STOP and STEP > 0")
        n = int(math.floor((stop - start) / step + 1e-9))
        values = [round(start + k * step, 12) for k in range(n + 1)]
        if abs(start + n * step - stop) <= 1e-9:
            values[-1] = stop
        if len(values) > 100_000:
            raise argparse.ArgumentTypeError(
                f"range {text!r} gives {len(values)} thresholds; that is too many"
            )
        return values
    try:
        values = [float(p) for p in s.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid thresholds {text!r}; use 'default', 'uint8', a comma list or START:STOP:STEP"
        ) from None
    if not values:
        raise argparse.ArgumentTypeError("empty threshold list")
    return values


def number_from_text(text: str, convert: type, ok: Callable[[Any], bool], need: str) -> Any:
    """``convert(text)`` when ``ok`` accepts it, else an argparse error: ``not a number`` (``not an
    integer`` for ``int``) or ``need``, where ``{text}`` stands for the value as given."""
    try:
        x = convert(text)
    except ValueError:
        what = "an integer" if convert is int else "a number"
        raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
    if not ok(x):
        raise argparse.ArgumentTypeError(need.format(text=repr(text)))
    return x


def positive_float(text: str) -> float:
    return number_from_text(
        text, float, lambda x: math.isfinite(x) and x > 0, "must be a positive number, got {text}"
    )


def finite_float(text: str) -> float:
    return number_from_text(text, float, math.isfinite, "must be finite, got {text}")


def resolve_jobs(value: Any, label: str = "jobs") -> int:
    """The one rule for worker counts, in the API, the commands and the leaderboard: a whole number
    >= 1, or 0 for one worker per CPU core; anything else (e.g. -1) is an InputError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise InputError(f"{label} must be a whole number >= 0 (0 = one per CPU core), got {value!r}")
    return int(value) or (os.cpu_count() or 1)


def jobs_from_text(text: str) -> int:
    return resolve_jobs(number_from_text(text, int, lambda x: x >= 0, "must be >= 0 (0 = one per CPU core)"))


def _real(value: Any, label: str) -> float:
    """A finite real number (not a bool), as float; ValueError naming ``label`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{label} must be a finite number, got {value!r}")
    return float(value)


def _positive(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{label} must be a positive number, got {value!r}")
    return float(value)


def _thresholds(value: Any, label: str) -> str | list[float]:
    if isinstance(value, str):
        try:
            return parse_thresholds(value)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(f"{label}: {exc}") from None
    if isinstance(value, (list, tuple)) and all(
        isinstance(x, numbers.Real) and not isinstance(x, bool) for x in value
    ):
        if not value or not all(math.isfinite(x) for x in value):
            raise ValueError(f"{label}: the list must hold finite numbers")
        return [float(x) for x in value]
    raise ValueError(f"{label} must be 'default', 'uint8', 'START:STOP:STEP' or a list")


def _match(value: Any, label: str) -> str:
    if value not in MATCH_RULES:
        raise ValueError(f"{label}={value!r} is not one of {MATCH_RULES}")
    return value


def _resize(value: Any, label: str) -> str | None:
    if value not in (None, "nearest"):
        raise ValueError(f"{label}={value!r}: only None or 'nearest' is supported")
    return value


# --------------------------------------------------------------------------------------------------
# the option table
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One evaluation setting: its default, help, and how a value is read and checked."""

    name: str
    default: Any
    help: str
    check: Callable[[Any, str], Any]  # (value, label) -> checked value; ValueError naming label
    from_text: Callable[[str], Any] | None = None  # argparse ``type``
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


OPTIONS: dict[str, Option] = {
    o.name: o
    for o in (
        Option("thresholds", "default",
               "HSE grid: 'default' (0.05..0.95 step 0.05), 'uint8' (k/255), a comma list, or START:STOP:STEP",
               _thresholds, parse_thresholds, "SPEC"),
        Option("threshold", 0.5, "operating threshold for IoU/nIoU/Pd/Fa (default 0.5)", _real, finite_float),
        Option("match", "greedy", "target matching (default greedy)", _match, choices=MATCH_RULES),
        Option("radius", 3.0, "centroid distance for a detection, px (default 3)", _positive, positive_float),
        Option("mask_threshold", None,
               "binarise masks as mask > T (in the mask's own units) instead of requiring {0, max} masks",
               _real, finite_float, "T"),
        Option("resize_masks", None,
               "opt in to resizing a mask whose size differs from its prediction (reported in the output)",
               _resize, choices=("nearest",)),
        Option("jobs", 1, "worker processes for reading and per-image evaluation (0 = all cores)",
               lambda v, label: v, jobs_from_text, "N"),
    )
}  # fmt: skip


def check_value(name: str, value: Any, label: str | None = None) -> Any:
    """The value of setting ``name`` (from Python or a configuration file), checked; ``None`` is kept
    for settings whose default is None. Raises ``ValueError`` naming ``label`` (default ``name``)."""
    option = OPTIONS[name]
    if value is None and option.default is None:
        return None
    return option.check(value, label or name)


def defaults(*names: str) -> dict[str, Any]:
    """The defaults of the named settings."""
    return {name: OPTIONS[name].default for name in names}


def add_eval_options(group: Any, names: Sequence[str]) -> None:
    """Add the command-line options of the named settings to an argparse parser or group."""
    for name in names:
        o = OPTIONS[name]
        kwargs: dict[str, Any] = {"default": o.default, "help": o.help}
        if o.choices is not None:
            kwargs["choices"] = o.choices
        if o.from_text is not None:
            kwargs["type"] = o.from_text
        if o.metavar is not None:
            kwargs["metavar"] = o.metavar
        group.add_argument(o.flag, **kwargs)


def compat_names() -> tuple[str, ...]:
    """The peer toolboxes hse reproduces (the keys of :data:`hse.compat.COMPAT`)."""
    from .compat import COMPAT

    return tuple(COMPAT)


def compat_from_flags(values: Sequence[str] | None) -> list[str]:
    """``--compat`` values (repeatable, comma lists, any case) as peer names without duplicates."""
    known = compat_names()
    out: list[str] = []
    for v in values or []:
        for name in v.split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name not in known:
                raise InputError(f"--compat: unknown peer {name!r}; choose from {', '.join(known)}")
            if name not in out:
                out.append(name)
    return out


# --------------------------------------------------------------------------------------------------
# the validated settings of one evaluation
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvalConfig:
    """Validated evaluation settings (picklable, so worker processes get the same ones)."""

    thresholds: tuple[float, ...]
    threshold: float = 0.5
    match: str = "greedy"
    radius: float = 3.0
    mask_threshold: float | None = None
    resize_masks: str | None = None
    compat: tuple[str, ...] = ()
    compat_options: dict = field(default_factory=dict)
    preset: str = "hse-v1"

    @classmethod
    def create(
        cls,
        thresholds: ThresholdSpec | None = None,
        threshold: float = 0.5,
        match: str | None = None,
        radius: float | None = None,
        mask_threshold: float | None = None,
        resize_masks: str | None = None,
        compat: str | Sequence[str] | None = None,
        compat_options: dict | None = None,
        preset: str = "hse-v1",
    ) -> EvalConfig:
        """Check every setting (an :class:`InputError` names the first bad one) and fill the preset's
        defaults (grid, matching, radius) for those left as None."""
        spec = get_preset(preset)
        grid = resolve_thresholds(spec.thresholds if thresholds is None else thresholds)
        try:
            match = check_value("match", spec.match if match is None else match)
            radius = check_value("radius", spec.radius if radius is None else radius)
            mask_threshold = check_value("mask_threshold", mask_threshold)
            resize_masks = check_value("resize_masks", resize_masks)
        except ValueError as exc:
            raise InputError(str(exc)) from None
        names = (compat,) if isinstance(compat, str) else tuple(compat or ())
        unknown = [n for n in names if n not in compat_names()]
        if unknown:
            raise InputError(f"compat={unknown} unknown; choose from {sorted(compat_names())}")
        stray = sorted(set(compat_options or {}) - set(names))
        if stray:
            raise InputError(f"compat_options for {stray}, which are not in compat={list(names)}")
        return cls(
            thresholds=tuple(float(t) for t in grid),
            threshold=check_operating_threshold(threshold),
            match=match,
            radius=radius,
            mask_threshold=mask_threshold,
            resize_masks=resize_masks,
            compat=names,
            compat_options=dict(compat_options or {}),
            preset=preset,
        )._checked()

    def _checked(self) -> EvalConfig:
        try:  # build each peer accumulator once, so a bad option fails here with a clear message
            self.new_compat()
        except (TypeError, ValueError) as exc:
            raise InputError(f"compat_options={self.compat_options!r}: {exc}") from exc
        return self

    @property
    def evaluation_grid(self) -> np.ndarray:
        return with_operating_point(np.asarray(self.thresholds), self.threshold)[0]

    def settings(self) -> dict:
        """The settings as saved in a result (``Result.settings``), with the evaluation grid."""
        out = asdict(self)
        out["thresholds"] = list(self.thresholds)
        out["compat"] = list(self.compat)
        out["evaluation_grid"] = [float(t) for t in self.evaluation_grid]
        out["hse_version"] = __version__
        return out

    def new_compat(self) -> dict:
        """Fresh peer accumulators, one per name in ``compat``."""
        if not self.compat:
            return {}
        from .compat import COMPAT

        return {
            name: COMPAT[name](threshold=self.threshold, **self.compat_options.get(name, {}))
            for name in self.compat
        }
