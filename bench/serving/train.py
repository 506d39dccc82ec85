"""Trains the benchmark model and saves it twice as MLflow model directories.

A scikit-learn RandomForestClassifier (100 trees) on the penguins of vega-datasets, saved with
`mlflow.sklearn.save_model` (sklearn flavor) and, converted with skl2onnx, with `mlflow.onnx.save_model`
(onnx flavor). Writes <out>/sklearn_model, <out>/onnx_model and <out>/row.json (one request body and the label
scikit-learn gives it, so every server's answer can be checked before it is timed).

    python bench/serving/train.py OUT_DIR
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import mlflow.onnx
import mlflow.sklearn
import numpy as np
from skl2onnx import to_onnx
from sklearn.ensemble import RandomForestClassifier

ROOT = Path(__file__).resolve().parents[2]
PENGUINS = ROOT / "node_modules" / "vega-datasets" / "data" / "penguins.json"
KEYS = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"]


def main(out: Path) -> None:
    records = [r for r in json.loads(PENGUINS.read_text()) if all(r.get(k) is not None for k in [*KEYS, "Species"])]
    x = np.array([[float(r[k]) for k in KEYS] for r in records], dtype=np.float32)
    y = np.array([r["Species"] for r in records])
    forest = RandomForestClassifier(n_estimators=100, random_state=0).fit(x, y)
    for d in ("sklearn_model", "onnx_model"):
        shutil.rmtree(out / d, ignore_errors=True)
    example = x[:2]
    mlflow.sklearn.save_model(
        forest, str(out / "sklearn_model"), input_example=example, skops_trusted_types=["sklearn.tree._tree.Tree"]
    )
    onx = to_onnx(forest, x[:1], options={RandomForestClassifier: {"zipmap": False}})
    mlflow.onnx.save_model(onx, str(out / "onnx_model"), input_example=example)
    row = x[7:8]
    body = {"inputs": row.tolist()}
    (out / "row.json").write_text(json.dumps({"body": body, "label": str(forest.predict(row)[0])}))
    print(f"trained a 100-tree forest on {len(records)} penguins; saved both flavors under {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
