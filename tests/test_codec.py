"""The hse/1 codec (hse.codec): a saved result always reloads, and a hand-edited one is refused, with
the file and the field named, whenever its counters, totals or curve cannot be what an evaluation gave."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hse
from hse.demo import make_demo
from hse.errors import InputError
from hse.result import load_result
from hse.state import EvalState


@pytest.fixture(scope="module")
def result():
    names, preds, masks = make_demo(n_images=4, size=48, seed=3)
    return hse.evaluate(preds, masks, names=names)


def _op(d: dict) -> int:
    """Index of the operating threshold in the saved grid."""
    return d["settings"]["evaluation_grid"].index(d["threshold"])


@pytest.mark.filterwarnings("ignore::hse.SmallSampleWarning")
def test_saved_json_always_reloads(result, tmp_path):
    text = result.to_json(tmp_path / "r.json")
    again = load_result(tmp_path / "r.json")
    assert json.loads(text)["state"]["names"] == result.names
    assert again.to_dict() == result.to_dict() and again.hse == result.hse
    assert hse.bootstrap(tmp_path / "r.json", n=20)["hse"].estimate == result.hse
    # opting out of the state gives a file for reading only, and says so when reloaded
    with pytest.raises(InputError, match="per-image state"):
        hse.Result.from_dict(result.to_dict(include_state=False))


def _edit_state(field: str, value) -> callable:
    def edit(d):
        d["state"][field][1][_op(d)] = value(d)

    return edit


EDITS = {
    # a negative count
    "negative pix_fp": (_edit_state("pix_fp", lambda d: -5), "state.pix_fp"),
    # matched-component pixels above the predicted pixels: Fa's numerator would be negative
    "negative Fa": (
        _edit_state("tgt_matched_area", lambda d: d["state"]["pix_tp"][1][_op(d)] + d["state"]["pix_fp"][1][_op(d)] + 9),
        "state.tgt_matched_area",
    ),
    "more matched than targets": (_edit_state("tgt_matched", lambda d: d["state"]["n_targets"][1] + 1), "state.tgt_matched"),
    "TP above target pixels": (_edit_state("pix_tp", lambda d: d["state"]["n_gt_pixels"][1] + 1), "state.pix_tp"),
    "pixels above the image": (_edit_state("pix_fp", lambda d: d["state"]["n_pixels"][1]), "state.pix_fp"),
    "pixel count growing with the threshold": (
        lambda d: d["state"]["pix_fp"][1].__setitem__(-1, d["state"]["pix_fp"][1][0] + 1),
        "state.pix_fp",
    ),
    "n_pixels not height x width": (lambda d: d["state"]["n_pixels"].__setitem__(0, 7), "state.n_pixels"),
    "total targets": (lambda d: d.__setitem__("n_targets", d["n_targets"] + 1), "n_targets"),
    "total images": (lambda d: d.__setitem__("n_images", 99), "n_images"),
    "summary score": (lambda d: d.__setitem__("hse", 0.999), "hse"),
    "curve Fa": (lambda d: d["curve"][_op(d)].__setitem__("fa", -3.2e-5), "fa"),
    "curve TP": (lambda d: d["curve"][0].__setitem__("tp", d["curve"][0]["tp"] + 1), "curve[0].tp"),
    "curve rows": (lambda d: d["curve"].pop(), "curve"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(EDITS))
def test_hand_edited_json_is_refused(result, tmp_path, case):
    edit, field = EDITS[case]
    d = json.loads(result.to_json())
    edit(d)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(InputError) as info:
        load_result(bad)
    assert "bad.json" in str(info.value) and field in str(info.value), str(info.value)
    with pytest.raises(InputError, match=field.replace("[", r"\[")):
        hse.Result.from_dict(d)


def test_component_and_match_counts_need_not_be_monotone(result):
    """A component can split as the threshold rises, and greedy matching can gain a match: such
    counters are consistent and reload."""
    s = result.state
    curves = {k: v.copy() for k, v in s.curves.items()}
    predicted = curves["pix_tp"] + curves["pix_fp"]
    i, k = np.argwhere(predicted[:, 1:] > curves["tgt_components"][:, :-1])[-1]
    curves["tgt_components"][i, k + 1] = curves["tgt_components"][i, k] + 1
    edited = hse.Result(EvalState(s.names, curves, s.scalars), result.settings)
    again = hse.Result.from_dict(json.loads(edited.to_json()))
    assert np.array_equal(again.state.curves["tgt_components"], curves["tgt_components"])
