"""Per-image reduction: one (prediction, mask) pair to a few integer counters per threshold.

* :mod:`hse.reduce.labelling` - 8-connected components, their areas and centroids (kernel: ``_label8``);
* :mod:`hse.reduce.pixel` - per-pixel threshold levels and pixel TP/FP at every threshold (kernels:
  ``_levels``);
* :mod:`hse.reduce.target` - ground-truth targets and target counts at every threshold;
* :mod:`hse.reduce._sweep` - the one-pass union-find sweep over the thresholds (numba);
* :mod:`hse.reduce.matching` - the greedy and optimal matching rules;
* :mod:`hse.reduce.image` - one pair to its :class:`~hse.state.ImageState`.
"""
