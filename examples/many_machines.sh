#!/usr/bin/env bash
# Score one set as N shards (one per machine, or one after another) and merge them (docs/many-machines.md).
# Usage: bash examples/many_machines.sh [N] [WORKDIR]   (default 3 shards, a fresh temporary folder).
# PYTHON may name the interpreter (default: python). The merged JSON equals the unsharded run's.
set -euo pipefail
N=${1:-3}
WORK=${2:-$(mktemp -d)}
PY=${PYTHON:-python}

# 1. a small synthetic set of saved maps (in practice: your model's predictions and the masks)
"$PY" - "$WORK" <<'PY'
import sys
from pathlib import Path
import numpy as np
from PIL import Image
from hse.demo import make_demo
root = Path(sys.argv[1])
for sub in ("preds", "masks"):
    (root / sub).mkdir(parents=True, exist_ok=True)
names, preds, masks = make_demo(n_images=10, size=32, seed=7)
for name, p, m in zip(names, preds, masks):
    Image.fromarray(np.round(p * 255).astype(np.uint8)).save(root / "preds" / f"{name}.png")
    Image.fromarray(m.astype(np.uint8) * 255).save(root / "masks" / f"{name}.png")
PY

# 2. each machine scores its shard (same command, same settings, K = 1..N)
for K in $(seq 1 "$N"); do
    "$PY" -m hse.cli "$WORK/preds" "$WORK/masks" --shard "$K/$N" --json "$WORK/part_$K.json" --quiet
done

# 3. gather the part files in one place and merge them
"$PY" -m hse.cli merge "$WORK"/part_*.json --json "$WORK/all.json" --csv "$WORK/curve.csv" --ci --quiet

# 4. the check: the unsharded run gives the same file, apart from the list of merged parts
"$PY" -m hse.cli "$WORK/preds" "$WORK/masks" --json "$WORK/single.json" --ci --quiet
"$PY" - "$WORK" <<'PY'
import json, sys
from pathlib import Path
root = Path(sys.argv[1])
merged = json.loads((root / "all.json").read_text())
single = json.loads((root / "single.json").read_text())
merged.pop("merged_from")
assert merged == single, "the merged result differs from the unsharded run"
print(f"merged {len(list(root.glob('part_*.json')))} shards: HSE {merged['hse']:.6f} over "
      f"{merged['n_images']} images, identical to the unsharded run")
PY
