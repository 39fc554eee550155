"""The real case of docs/optimize.md (#16): the dense digits classifier trained on scikit-learn's
digits, optimized by the real binary with the held-out digits as a labelled eval set. int8 and
a distilled student keep their accuracy within 1% and are accepted; 90% magnitude pruning is
rejected; the int8 version is written."""

import re
import subprocess
import sys

import pytest

from conftest import REPO_ROOT, inferd_binary

pytest.importorskip("sklearn")
pytest.importorskip("torch")


def test_digits_int8_and_distillation_keep_their_accuracy(tmp_path):
    trained = subprocess.run([sys.executable, str(REPO_ROOT / "examples" / "digits" /
                                                  "train_digits_dense.py"), str(tmp_path)],
                             capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    model_dir = tmp_path / "models" / "digits_dense"
    done = subprocess.run(
        [inferd_binary(), "optimize", str(model_dir / "1" / "model.onnx"), "--out",
         str(model_dir), "--eval", str(tmp_path / "eval.json"), "--train-inputs",
         str(tmp_path / "train_inputs.json"), "--transforms", "int8,prune:0.9,distill:32",
         "--max-accuracy-drop", "0.01", "--write", "int8", "--bench-ms", "10",
         "--bench-rounds", "1"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:] if line.strip()}
    # columns: name, size (two tokens), size ÷ orig, throughput ÷ orig, accuracy, …
    accuracy = {name: float(row.split()[5])
                for name, row in rows.items() if name in ("original", "int8", "distill:32")}
    assert accuracy["original"] > 0.95, done.stdout
    for name in ("int8", "distill:32"):
        assert accuracy[name] >= accuracy["original"] - 0.01, done.stdout
        assert "rejected" not in rows[name], done.stdout
    assert "rejected" in rows["prune:0.9"], done.stdout
    assert re.search(r"wrote 'int8' as version 2", done.stdout)
    assert (model_dir / "2" / "model.onnx").exists()
