#!/usr/bin/python3
"""A dense digits classifier for `inferd optimize` (docs/optimize.md): the real case.

Trains a 64 -> 256 -> 128 -> 10 MLP with PyTorch on scikit-learn's 8x8 digits, with the same
split and pixel normalization as train_digits.py (the pipelines example), exports it to ONNX and
writes

    OUT/models/digits_dense/config.pbtxt, OUT/models/digits_dense/1/model.onnx
    OUT/eval.json          the held-out 20%: {"inputs": {"pixels": [...]}, "labels": [...]}
    OUT/train_inputs.json  the training inputs (for distillation; labels left out)

Deterministic (fixed seeds, one thread); trains in a few seconds on one core:

    /usr/bin/python3 examples/digits/train_digits_dense.py OUT_DIR
"""

import argparse
import json
import pathlib
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

EPOCHS = 40
MEAN, STD = 0.3, 0.4  # as train_digits.py

CONFIG = """\
name: "digits_dense"
platform: "onnxruntime_onnx"
max_batch_size: 64
input { name: "pixels" data_type: TYPE_FP32 dims: [ 64 ] }
output { name: "probabilities" data_type: TYPE_FP32 dims: [ 10 ] }
version_policy: { latest: { num_versions: 2 } }
"""


class DigitsDense(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = torch.nn.Sequential(
            torch.nn.Linear(64, 256), torch.nn.ReLU(),
            torch.nn.Linear(256, 128), torch.nn.ReLU(),
            torch.nn.Linear(128, 10))

    def forward(self, pixels):
        return torch.softmax(self.layers(pixels), dim=1)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)

    digits = load_digits()
    images = digits.images * (255.0 / 16.0)
    train_x, test_x, train_y, test_y = train_test_split(
        images, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    to_pixels = lambda x: ((x / 255.0 - MEAN) / STD).astype(np.float32).reshape(len(x), 64)
    xs, ys = torch.from_numpy(to_pixels(train_x)), torch.from_numpy(train_y.astype(np.int64))

    model = DigitsDense()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(xs), generator=generator).split(64):
            optimizer.zero_grad()
            loss = torch.nn.functional.nll_loss(torch.log(model(xs[batch]) + 1e-9), ys[batch])
            loss.backward()
            optimizer.step()
    model.eval()

    model_dir = args.out / "models" / "digits_dense"
    (model_dir / "1").mkdir(parents=True, exist_ok=True)
    (model_dir / "config.pbtxt").write_text(CONFIG)
    torch.onnx.export(model, torch.zeros(1, 64), str(model_dir / "1" / "model.onnx"),
                      input_names=["pixels"], output_names=["probabilities"],
                      dynamic_axes={"pixels": {0: "batch"}, "probabilities": {0: "batch"}},
                      opset_version=13)
    test = to_pixels(test_x)
    (args.out / "eval.json").write_text(json.dumps(
        {"inputs": {"pixels": np.round(test, 5).tolist()}, "labels": test_y.tolist()}))
    (args.out / "train_inputs.json").write_text(json.dumps(
        {"inputs": {"pixels": np.round(to_pixels(train_x), 5).tolist()}}))
    with torch.no_grad():
        accuracy = (model(torch.from_numpy(test)).argmax(1).numpy() == test_y).mean()
    print(f"digits_dense: held-out accuracy {accuracy:.4f} on {len(test_y)} digits")


if __name__ == "__main__":
    main(sys.argv[1:])
