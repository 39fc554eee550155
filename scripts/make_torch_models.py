#!/usr/bin/python3
"""Generates inferd's small, real TorchScript test models (Triton's pytorch_libtorch layout:
<model>/config.pbtxt, <model>/<version>/model.pt).

Run with the Debian interpreter (it has python3-torch, python3-numpy and python3-onnx):

    /usr/bin/python3 scripts/make_torch_models.py --examples examples/models
    /usr/bin/python3 scripts/make_torch_models.py --test /tmp/inferd-torch-models
    /usr/bin/python3 scripts/make_torch_models.py --add-model PATH VALUE

`--examples` writes `mlp_torch`, the ONNX example `mlp` as TorchScript (same weights, so both
engines give the same answer); `--test` writes it plus the models tests/integration/
test_torchscript.py uses: one identity model per libtorch data type, named forward()
arguments, a dynamic-batching model, an add-a-constant model for reloads, and a model without
the config TorchScript needs. `--add-model PATH VALUE` writes one add-VALUE model to PATH.
Weights come from fixed seeds, the Python hash seed is fixed (the script re-executes itself
with PYTHONHASHSEED=0), and a file is rewritten only when its bytes change.
"""

import argparse
import io
import os
import sys
import zipfile
from typing import List, Tuple

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import MLP_LABELS, RepoWriter, mlp_weights  # noqa: E402

# Triton data type name -> torch dtype: every type libtorch 1.13 has.
TORCH_TYPES = {
    "BOOL": torch.bool, "UINT8": torch.uint8, "INT8": torch.int8, "INT16": torch.int16,
    "INT32": torch.int32, "INT64": torch.int64, "FP16": torch.float16, "BF16": torch.bfloat16,
    "FP32": torch.float32, "FP64": torch.float64,
}


class Mlp(torch.nn.Module):
    """input [batch, 64] -> Linear(64->128) -> ReLU -> Linear(128->10) -> logits, softmax."""

    def __init__(self):
        super().__init__()
        w = mlp_weights()  # ONNX Gemm layout (in, out); Linear wants (out, in)
        self.fc1 = torch.nn.Linear(w["fc1.weight"].shape[0], w["fc1.weight"].shape[1])
        self.fc2 = torch.nn.Linear(w["fc2.weight"].shape[0], w["fc2.weight"].shape[1])
        with torch.no_grad():
            self.fc1.weight.copy_(torch.from_numpy(w["fc1.weight"].T.copy()))
            self.fc1.bias.copy_(torch.from_numpy(w["fc1.bias"]))
            self.fc2.weight.copy_(torch.from_numpy(w["fc2.weight"].T.copy()))
            self.fc2.bias.copy_(torch.from_numpy(w["fc2.bias"]))

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        logits = self.fc2(torch.relu(self.fc1(x)))
        return logits, torch.softmax(logits, dim=1)


class Identity(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x  # the very input tensor: inferd must copy it out before the request ends


class SumAndProduct(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> List[torch.Tensor]:
        return [x + y, x * y]


class AddConstant(torch.nn.Module):
    def __init__(self, value: float):
        super().__init__()
        self.value = value

    def forward(self, INPUT__0: torch.Tensor) -> torch.Tensor:
        return INPUT__0 + self.value


def scripted_bytes(module):
    """The TorchScript archive of `module`, without the *.debug_pkl entries: they hold source
    tracebacks with this script's absolute path, and libtorch loads the archive without them."""
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(module.eval()), buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            if not info.filename.endswith(".debug_pkl"):
                dst.writestr(info, src.read(info.filename))
    return out.getvalue()


MLP_TORCH_CONFIG = """name: "mlp_torch"
platform: "pytorch_libtorch"
max_batch_size: 64
input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ 64 ] } ]
output [
  { name: "LOGITS__0" data_type: TYPE_FP32 dims: [ 10 ] },
  { name: "PROBABILITIES__1" data_type: TYPE_FP32 dims: [ 10 ] label_filename: "labels.txt" }
]
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching { max_queue_delay_microseconds: 2000 }
parameters { key: "adaptive_queue_delay" value { string_value: "true" } }
"""


def identity_config(name, dtype):
    return f"""name: "{name}"
backend: "pytorch"
max_batch_size: 0
input [ {{ name: "INPUT__0" data_type: TYPE_{dtype} dims: [ -1, -1 ] }} ]
output [ {{ name: "OUTPUT__0" data_type: TYPE_{dtype} dims: [ -1, -1 ] }} ]
"""


# Inputs listed in the opposite order to forward(x, y): they are matched by name. The outputs'
# __<index> suffixes pick the list elements.
NAMED_CONFIG = """name: "torch_named"
platform: "pytorch_libtorch"
max_batch_size: 0
input [ { name: "y" data_type: TYPE_INT32 dims: [ 3 ] },
        { name: "x" data_type: TYPE_INT32 dims: [ 3 ] } ]
output [ { name: "PRODUCT__1" data_type: TYPE_INT32 dims: [ 3 ] },
         { name: "SUM__0" data_type: TYPE_INT32 dims: [ 3 ] } ]
"""

BATCHING_CONFIG = """name: "torch_batching"
backend: "pytorch"
max_batch_size: 16
input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
dynamic_batching { max_queue_delay_microseconds: 200000 preferred_batch_size: [ 8 ] }
model_warmup [ { name: "zeros" batch_size: 2
                 inputs { key: "INPUT__0" value: { data_type: TYPE_FP32 dims: [ 4 ] zero_data: true } } } ]
"""

RELOAD_CONFIG = """name: "torch_reload"
backend: "pytorch"
max_batch_size: 8
input [ { name: "INPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "OUTPUT__0" data_type: TYPE_FP32 dims: [ 4 ] } ]
"""


def write_examples(w):
    w.write("mlp_torch/1/model.pt", scripted_bytes(Mlp()))
    w.write("mlp_torch/config.pbtxt", MLP_TORCH_CONFIG)
    w.write("mlp_torch/labels.txt", "".join(label + "\n" for label in MLP_LABELS))


def write_test_extras(w):
    for dtype in TORCH_TYPES:
        name = f"torch_identity_{dtype.lower()}"
        w.write(f"{name}/1/model.pt", scripted_bytes(Identity()))
        w.write(f"{name}/config.pbtxt", identity_config(name, dtype))
    w.write("torch_named/1/model.pt", scripted_bytes(SumAndProduct()))
    w.write("torch_named/config.pbtxt", NAMED_CONFIG)
    w.write("torch_batching/1/model.pt", scripted_bytes(AddConstant(0.0)))
    w.write("torch_batching/config.pbtxt", BATCHING_CONFIG)
    w.write("torch_reload/1/model.pt", scripted_bytes(AddConstant(1.0)))
    w.write("torch_reload/config.pbtxt", RELOAD_CONFIG)
    # No config.pbtxt: a TorchScript file does not declare its tensors, so this cannot load.
    w.write("torch_no_config/1/model.pt", scripted_bytes(Identity()))


def main(argv):
    # TorchScript writes a module's constants in the order of a Python set (nn.Linear's
    # __constants__), which follows string hashing: fix the hash seed so the bytes are the same
    # on every run.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *argv],
                  {**os.environ, "PYTHONHASHSEED": "0"})
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--examples", metavar="DIR", help="write the example models to DIR")
    group.add_argument("--test", metavar="DIR", help="write the test models to DIR")
    group.add_argument("--add-model", nargs=2, metavar=("PATH", "VALUE"),
                       help="write one model.pt that adds VALUE to INPUT__0")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    if args.add_model:
        path, value = args.add_model
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(scripted_bytes(AddConstant(float(value))))
        return 0
    w = RepoWriter(args.examples or args.test)
    write_examples(w)
    if args.test:
        write_test_extras(w)
    print(f"{w.root}: {w.written} written, {w.unchanged} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
