#!/usr/bin/python3
"""The digits pipeline example: a PNG or JPEG of a handwritten digit in, its label out.

Trains a small CNN with PyTorch on the 8x8 digits data set that scikit-learn ships, exports it
to ONNX, and writes an inferd model repository whose ensemble `digits` runs

    digits_preprocess (image processor: decode gray, area-resize to 8x8, scale, normalize)
      -> digits_cnn (ONNX Runtime) -> probabilities with labels (top-1 via classification)

plus the held-out images (upscaled 4x to 32x32, as PNG and as JPEG) and accuracy.json, the
accuracy this script measures on those very files (decoded with Pillow, pre-processed with
NumPy the way the pipeline does it). tests/integration/test_digits_example.py classifies the
images through a real server and expects the same accuracy. Deterministic (fixed seeds, one
thread); trains in a few seconds on one core. Run with the Debian interpreter:

    /usr/bin/python3 examples/digits/train_digits.py OUT_DIR
"""

import argparse
import io
import json
import pathlib
import sys

import numpy as np
import torch
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

SCALE = 4          # held-out images are 8x8 digits upscaled to 32x32
EPOCHS = 40
# Pixel statistics of the digits (values 0..1 after scaling), fixed so the config is stable.
MEAN, STD = 0.3, 0.4

PREPROCESS_CONFIG = f"""\
name: "digits_preprocess"
backend: "image"
max_batch_size: 16
input {{ name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] }}
output {{ name: "PIXELS" data_type: TYPE_FP32 dims: [ 1, 8, 8 ] }}
parameters {{ key: "channels" value {{ string_value: "1" }} }}
parameters {{ key: "resize" value {{ string_value: "8x8" }} }}
parameters {{ key: "interpolation" value {{ string_value: "area" }} }}
parameters {{ key: "scale" value {{ string_value: "{1 / 255!r}" }} }}
parameters {{ key: "mean" value {{ string_value: "{MEAN}" }} }}
parameters {{ key: "std" value {{ string_value: "{STD}" }} }}
"""

CNN_CONFIG = """\
name: "digits_cnn"
platform: "onnxruntime_onnx"
max_batch_size: 16
input { name: "pixels" data_type: TYPE_FP32 dims: [ 1, 8, 8 ] }
output { name: "probabilities" data_type: TYPE_FP32 dims: [ 10 ] }
"""

PIPELINE_CONFIG = """\
name: "digits"
platform: "ensemble"
max_batch_size: 16
input { name: "IMAGE" data_type: TYPE_STRING dims: [ 1 ] }
output { name: "PROBABILITIES" data_type: TYPE_FP32 dims: [ 10 ] label_filename: "labels.txt" }
ensemble_scheduling {
  step [
    {
      model_name: "digits_preprocess"
      model_version: -1
      input_map { key: "IMAGE" value: "IMAGE" }
      output_map { key: "PIXELS" value: "PIXELS" }
    },
    {
      model_name: "digits_cnn"
      model_version: -1
      input_map { key: "pixels" value: "PIXELS" }
      output_map { key: "probabilities" value: "PROBABILITIES" }
    }
  ]
}
"""

LABELS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


class DigitsCnn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2))
        self.head = torch.nn.Sequential(
            torch.nn.Flatten(), torch.nn.Linear(32 * 4 * 4, 64), torch.nn.ReLU(),
            torch.nn.Linear(64, 10))

    def forward(self, pixels):
        return torch.softmax(self.head(self.features(pixels)), dim=1)


def to_pixels(images_0_255):
    """[N, 8, 8] floats 0..255 -> the normalized [N, 1, 8, 8] the CNN takes."""
    return ((images_0_255 / 255.0 - MEAN) / STD).astype(np.float32)[:, None, :, :]


def train(x, y):
    model = DigitsCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    xs, ys = torch.from_numpy(x), torch.from_numpy(y)
    generator = torch.Generator().manual_seed(0)
    for _ in range(EPOCHS):
        for batch in torch.randperm(len(xs), generator=generator).split(64):
            optimizer.zero_grad()
            probabilities = model(xs[batch])
            loss = torch.nn.functional.nll_loss(torch.log(probabilities + 1e-9), ys[batch])
            loss.backward()
            optimizer.step()
    return model.eval()


def save_images(out, digits_0_255, labels):
    """Held-out digits as 32x32 PNG and JPEG files named <index>_<label>.<ext>."""
    files = []
    for i, (digit, label) in enumerate(zip(digits_0_255, labels)):
        big = np.kron(np.rint(digit), np.ones((SCALE, SCALE))).astype(np.uint8)
        for fmt, ext in (("PNG", "png"), ("JPEG", "jpg")):
            path = out / ext / f"{i:04d}_{label}.{ext}"
            path.parent.mkdir(parents=True, exist_ok=True)
            buffer = io.BytesIO()
            Image.fromarray(big, mode="L").save(buffer, fmt, **({"quality": 95} if ext == "jpg" else {}))
            path.write_bytes(buffer.getvalue())
            files.append((path, int(label)))
    return files


def pillow_preprocess(data):
    """What the pipeline's first step does, in Python: decode gray, 4x4 box average, normalize."""
    image = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32)
    h, w = image.shape
    small = image.reshape(8, h // 8, 8, w // 8).mean(axis=(1, 3))
    return to_pixels(small[None])[0]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)

    digits = load_digits()
    images = digits.images * (255.0 / 16.0)  # 0..16 -> 0..255
    train_x, test_x, train_y, test_y = train_test_split(
        images, digits.target, test_size=0.2, random_state=0, stratify=digits.target)
    model = train(to_pixels(train_x), train_y.astype(np.int64))

    repo = args.out / "models"
    for name in ("digits_preprocess", "digits_cnn/1", "digits"):
        (repo / name).mkdir(parents=True, exist_ok=True)
    (repo / "digits_preprocess" / "config.pbtxt").write_text(PREPROCESS_CONFIG)
    (repo / "digits_cnn" / "config.pbtxt").write_text(CNN_CONFIG)
    (repo / "digits" / "config.pbtxt").write_text(PIPELINE_CONFIG)
    (repo / "digits" / "labels.txt").write_text("".join(l + "\n" for l in LABELS))
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), str(repo / "digits_cnn" / "1" / "model.onnx"),
                      input_names=["pixels"], output_names=["probabilities"],
                      dynamic_axes={"pixels": {0: "batch"}, "probabilities": {0: "batch"}},
                      opset_version=13)

    files = save_images(args.out / "images", test_x, test_y)
    with torch.no_grad():
        batch = np.stack([pillow_preprocess(path.read_bytes()) for path, _ in files])
        predicted = model(torch.from_numpy(batch)).argmax(dim=1).numpy()
    correct = {"png": 0, "jpg": 0}
    for (path, label), p in zip(files, predicted):
        correct[path.suffix[1:]] += int(p == label)
    per_format = len(files) // 2
    result = {"images": len(files), "correct": sum(correct.values()),
              "accuracy": sum(correct.values()) / len(files),
              "accuracy_png": correct["png"] / per_format,
              "accuracy_jpg": correct["jpg"] / per_format, "labels": LABELS}
    (args.out / "accuracy.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"digits: {result['correct']}/{result['images']} held-out images right "
          f"({result['accuracy']:.2%}; PNG {result['accuracy_png']:.2%}, "
          f"JPEG {result['accuracy_jpg']:.2%})")


if __name__ == "__main__":
    main(sys.argv[1:])
