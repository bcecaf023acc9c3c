"""HSE as a ``torchmetrics.Metric``: batched tensors in, the same :class:`~hse.result.Result` as
:func:`hse.evaluate` out, synchronised across processes by torchmetrics' own distributed reduction.

Needs the ``torch`` extra (``pip install 'hse[torch]'``: torch and torchmetrics). Each batch is moved to
the host once, then every image is reduced by hse's per-image reduction (:mod:`hse.reduce`) to its
integer counters, which are the metric's states: one row per image, with the image's global index. The
states are registered with ``dist_reduce_fx="cat"``, so under ``torch.distributed`` torchmetrics gathers
every rank's rows before :meth:`HSE.compute`, which keeps one row per index (a ``DistributedSampler``
pads the last batches by repeating indexes) and sorts by index (:func:`hse.merging.combine_states`): every
rank gets the single-process Result, bit for bit. See docs/training.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from hse.errors import InputError
from hse.merging import combine_states
from hse.reduce.image import process_pair
from hse.result import Result
from hse.settings import EvalConfig
from hse.state import CURVE_FIELDS, SCALAR_FIELDS, EvalState

#: The metric's states: global index, curve counters (flattened rows of K) and per-image scalars.
STATE_NAMES = ("indexes", *CURVE_FIELDS, *SCALAR_FIELDS)


class HSE(Metric):
    """The HSE evaluation of :func:`hse.evaluate` as a ``torchmetrics.Metric``.

    Parameters
    ----------
    from_logits : bool
        Apply a sigmoid to ``preds`` first. Without it, predictions outside [0, 1] are refused as logits.
    **settings
        The evaluation settings of :func:`hse.evaluate` (``thresholds``, ``threshold``, ``match``,
        ``radius``, ``mask_threshold``, ``preset``). ``compat`` is not available here (peer numbers are
        totals that cannot be deduplicated by image), nor ``resize_masks`` (a batch has one shape).
    **kwargs
        Keyword arguments of ``torchmetrics.Metric`` (``process_group``, ``sync_on_compute``, ...).

    Notes
    -----
    :meth:`update` takes ``indexes``, each image's position in the whole evaluation set (e.g. the
    dataset index your ``Dataset`` returns); they are required under ``torch.distributed`` with more than
    one process. :meth:`compute` returns a :class:`hse.Result` (``.hse``, ``.at(0.5)``, ``.to_json()``),
    and calling the metric on a batch (``forward``) returns the Result of that batch alone while adding
    it to the state. Memory: O(images x thresholds) integers, as :class:`hse.HSEMetric`.

    Examples
    --------
    >>> metric = HSE()                                            # doctest: +SKIP
    >>> for images, masks, idx in loader:                         # doctest: +SKIP
    ...     metric.update(model(images).sigmoid(), masks, indexes=idx)
    >>> metric.compute().hse                                      # doctest: +SKIP
    """

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, from_logits: bool = False, **settings: Any) -> None:
        metric_kwargs = {k: settings.pop(k) for k in list(settings) if k not in _EVAL_KEYS}
        super().__init__(**metric_kwargs)
        for key in ("compat", "compat_options", "resize_masks"):
            if settings.get(key):
                raise InputError(
                    f"HSE (torchmetrics) does not take {key}=: peer-toolbox numbers and resized masks are "
                    "available from hse.evaluate / hse.HSEMetric"
                )
        self.config = EvalConfig.create(**settings)
        self.from_logits = bool(from_logits)
        self._n_thresholds = int(self.config.evaluation_grid.size)
        for name in STATE_NAMES:
            self.add_state(name, default=[], dist_reduce_fx="cat")
        self._next_index = 0
        self._last_batch: EvalState | None = None

    def reset(self) -> None:
        """Forget every image (states and the running image number)."""
        super().reset()
        self._next_index = 0

    # -- update -------------------------------------------------------------------------------------
    def update(self, preds: torch.Tensor, target: torch.Tensor, indexes: Any = None) -> None:
        """Add a batch: ``preds`` probabilities (or logits with ``from_logits=True``) and ``target`` masks,
        each (N, H, W) or (N, 1, H, W), on any device; ``indexes`` (N,) the images' global indexes."""
        p, t = _batch_shapes(preds, target)
        n = p.shape[0]
        index_list = self._indexes(indexes, n)
        if n == 0:
            return
        if self.from_logits:
            p = (p if p.dtype in (torch.float32, torch.float64) else p.float()).sigmoid()
        if p.is_floating_point() and p.dtype not in (torch.float32, torch.float64):
            p = p.float()  # float16/bfloat16: numpy reads float32 (bfloat16 has no numpy type)
        if t.dtype == torch.bfloat16:
            t = t.float()
        p_host = p.detach().to("cpu").numpy()  # the batch's one device-to-host transfer (per tensor)
        t_host = t.detach().to("cpu").numpy()
        if p_host.dtype.kind == "f" and not self.from_logits and p_host.size:
            low, high = float(p_host.min()), float(p_host.max())  # NaN passes on to hse's own check
            if low < 0.0 or high > 1.0:
                raise InputError(
                    f"preds hold values in [{low:.4g}, {high:.4g}], outside [0, 1]: these look like logits; "
                    "apply a sigmoid first or create the metric with HSE(from_logits=True)"
                )
        rows = [
            process_pair((index, None, p_host[i], t_host[i], self.config))[0]
            for i, index in enumerate(index_list)
        ]
        batch = EvalState.stack(rows, self._n_thresholds, index_list)
        batch.names = [str(i) for i in index_list]  # named by global index, as hse.evaluate names arrays
        self._last_batch = batch
        self._append(batch)

    def _indexes(self, indexes: Any, n: int) -> list[int]:
        if indexes is None:
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                if torch.distributed.get_world_size() > 1:
                    raise InputError(
                        "HSE.update: pass indexes= (each image's position in the whole set) when running "
                        "under torch.distributed: without them the processes' images cannot be told apart"
                    )
            out = list(range(self._next_index, self._next_index + n))
            self._next_index += n
            return out
        if isinstance(indexes, torch.Tensor):
            if indexes.is_floating_point() or indexes.is_complex() or indexes.dtype == torch.bool:
                raise InputError(f"indexes must be integers, got a {indexes.dtype} tensor")
            values = indexes.detach().reshape(-1).tolist()
        else:
            values = list(indexes) if isinstance(indexes, Sequence | np.ndarray) else [indexes]
        if len(values) != n:
            raise InputError(f"got {len(values)} indexes for a batch of {n} images")
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 0:
                raise InputError(f"indexes must be non-negative integers, got {v!r}")
        return [int(v) for v in values]

    def _append(self, batch: EvalState) -> None:
        device = self.device
        self.indexes.append(torch.as_tensor(batch.indexes, device=device))
        for f in CURVE_FIELDS:
            getattr(self, f).append(torch.as_tensor(batch.curves[f].reshape(-1), device=device))
        for f in SCALAR_FIELDS:
            getattr(self, f).append(torch.as_tensor(batch.scalars[f], device=device))

    # -- results ------------------------------------------------------------------------------------
    def compute(self) -> Result:
        """The :class:`hse.Result` of every image seen (by every process, once synchronised)."""
        arrays = {name: _host(getattr(self, name)) for name in STATE_NAMES}
        n = arrays["indexes"].size
        if n == 0:
            raise InputError("no images were evaluated: call update() with at least one batch first")
        k = self._n_thresholds
        state = EvalState(
            [str(i) for i in arrays["indexes"].tolist()],
            {f: arrays[f].reshape(n, k) for f in CURVE_FIELDS},
            {f: arrays[f] for f in SCALAR_FIELDS},
            indexes=arrays["indexes"],
        )
        return self._result(state)

    def forward(self, preds: torch.Tensor, target: torch.Tensor, indexes: Any = None) -> Result:
        """Add the batch to the state and return the Result of this batch alone (one reduction)."""
        self.update(preds, target, indexes)
        assert self._last_batch is not None
        return self._result(self._last_batch)

    def _result(self, state: EvalState) -> Result:
        combined, _ = combine_states([state], ["the gathered batches"])
        settings = self.config.settings()
        settings["n_resized"] = 0
        return Result(combined, settings, {})


_EVAL_KEYS = ("thresholds", "threshold", "match", "radius", "mask_threshold", "preset", "compat",
              "compat_options", "resize_masks")  # fmt: skip


def _batch_shapes(preds: Any, target: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, H, W) views of a batch given as (N, H, W) or (N, 1, H, W) tensors; InputError otherwise."""
    out = []
    for what, x in (("preds", preds), ("target", target)):
        if not isinstance(x, torch.Tensor):
            raise InputError(
                f"{what} must be a torch.Tensor of shape (N, H, W) or (N, 1, H, W), got {type(x).__name__}"
            )
        if x.ndim == 4 and x.shape[1] == 1:
            x = x[:, 0]
        if x.ndim != 3:
            raise InputError(
                f"{what} has shape {tuple(x.shape)}; expected a batch (N, H, W) or (N, 1, H, W) of "
                "single-channel maps"
            )
        out.append(x)
    p, t = out
    if p.shape != t.shape:
        raise InputError(
            f"preds {tuple(p.shape)} and target {tuple(t.shape)} must have the same batch and map sizes"
        )
    return p, t


def _host(value: Any) -> np.ndarray:
    """A state (a list of tensors, or one tensor after synchronisation) as one int64 numpy array."""
    if isinstance(value, list) and not value:
        return np.zeros(0, dtype=np.int64)
    return dim_zero_cat(value).detach().to("cpu").numpy().astype(np.int64, copy=False)
