#!/usr/bin/python3
"""Generates inferd's small, real ONNX test models laid out as a Triton model repository.

Run with the Debian interpreter (it has python3-onnx and python3-numpy):

    /usr/bin/python3 scripts/make_models.py --examples examples/models
    /usr/bin/python3 scripts/make_models.py --test /tmp/inferd-test-models

`--examples` writes the repository that `make serve` uses (committed to examples/models/);
`--test` writes a superset for tests/integration: one identity model per data type, version
policies, and models that must fail to load (corrupt file, contradicting config, config with an
unknown field).

Output is deterministic: weights come from a fixed seed and serialized bytes depend only on this
script, so regenerating leaves unchanged files untouched (a file is rewritten only when its bytes
differ). Models use opset 13 with IR version 7, which every ONNX Runtime since 1.8 loads.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 7
PRODUCER = "inferd scripts/make_models.py"
SEED = 20240613

MLP_IN, MLP_HIDDEN, MLP_CLASSES = 64, 128, 10
MLP_LABELS = ["airplane", "automobile", "bird", "cat", "deer",
              "dog", "frog", "horse", "ship", "truck"]

# Triton data type name -> ONNX element type, for the identity_<dtype> test models.
IDENTITY_TYPES = {
    "bool": TensorProto.BOOL,
    "uint8": TensorProto.UINT8,
    "uint16": TensorProto.UINT16,
    "uint32": TensorProto.UINT32,
    "uint64": TensorProto.UINT64,
    "int8": TensorProto.INT8,
    "int16": TensorProto.INT16,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "fp16": TensorProto.FLOAT16,
    "fp32": TensorProto.FLOAT,
    "fp64": TensorProto.DOUBLE,
    "bytes": TensorProto.STRING,
    # ONNX Runtime may or may not implement Identity for bfloat16; the tests accept either.
    "bf16": TensorProto.BFLOAT16,
}


# ---------------------------------------------------------------------------------------------
# Writing


class RepoWriter:
    """Writes files under a repository root, skipping those whose bytes are already current."""

    def __init__(self, root):
        self.root = root
        self.written = 0
        self.unchanged = 0

    def write(self, relpath, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        path = os.path.join(self.root, relpath)
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    self.unchanged += 1
                    return
        except FileNotFoundError:
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        self.written += 1

    def model(self, name, version, model):
        onnx.checker.check_model(model, full_check=True)
        self.write(f"{name}/{version}/model.onnx", model.SerializeToString())


# ---------------------------------------------------------------------------------------------
# Model builders


def make_model(graph):
    model = helper.make_model(
        graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    return model


def tensor(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def simple_model():
    """Triton's classic add/sub: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1."""
    shape = ["batch", 16]
    graph = helper.make_graph(
        [helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"], name="add"),
         helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"], name="sub")],
        "simple",
        [tensor("INPUT0", TensorProto.FLOAT, shape), tensor("INPUT1", TensorProto.FLOAT, shape)],
        [tensor("OUTPUT0", TensorProto.FLOAT, shape), tensor("OUTPUT1", TensorProto.FLOAT, shape)])
    return make_model(graph)


def mlp_weights():
    rng = np.random.RandomState(SEED)
    w1 = (rng.standard_normal((MLP_IN, MLP_HIDDEN)) / np.sqrt(MLP_IN)).astype(np.float32)
    b1 = (rng.standard_normal(MLP_HIDDEN) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((MLP_HIDDEN, MLP_CLASSES)) / np.sqrt(MLP_HIDDEN)).astype(np.float32)
    b2 = (rng.standard_normal(MLP_CLASSES) * 0.1).astype(np.float32)
    return {"fc1.weight": w1, "fc1.bias": b1, "fc2.weight": w2, "fc2.bias": b2}


def mlp_model():
    """input [batch, 64] -> Gemm(64->128) -> Relu -> Gemm(128->10) -> logits, Softmax."""
    weights = mlp_weights()
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["fc1"], name="fc1"),
         helper.make_node("Relu", ["fc1"], ["relu1"], name="relu1"),
         helper.make_node("Gemm", ["relu1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2"),
         helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)],
        "mlp",
        [tensor("input", TensorProto.FLOAT, ["batch", MLP_IN])],
        [tensor("logits", TensorProto.FLOAT, ["batch", MLP_CLASSES]),
         tensor("probabilities", TensorProto.FLOAT, ["batch", MLP_CLASSES])],
        initializer=[numpy_helper.from_array(v, name=k) for k, v in weights.items()])
    return make_model(graph)


def text_upper_model():
    """BYTES in, BYTES out: StringNormalizer(UPPER). StringNormalizer takes [C] or [1, C]; the
    2-D form [1, C] keeps the model unbatched (first dim fixed at 1), so auto-complete yields
    max_batch_size 0 and dims [1, -1]. The locale is explicit because ONNX Runtime's default,
    en_US.UTF-8, is missing on minimal systems (the session then fails to load); C.UTF-8 is
    built into glibc since 2.35 and upper-cases all of Unicode."""
    shape = [1, "C"]
    graph = helper.make_graph(
        [helper.make_node("StringNormalizer", ["text"], ["upper"], name="upper",
                          case_change_action="UPPER", is_case_sensitive=1,
                          locale="C.UTF-8")],
        "text_upper",
        [tensor("text", TensorProto.STRING, shape)],
        [tensor("upper", TensorProto.STRING, shape)])
    return make_model(graph)


def identity_model(name, elem_type):
    """INPUT0 -> Identity -> OUTPUT0, both dims dynamic ([batch, n])."""
    shape = ["batch", "n"]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT0"], ["OUTPUT0"], name="identity")],
        name,
        [tensor("INPUT0", elem_type, shape)],
        [tensor("OUTPUT0", elem_type, shape)])
    return make_model(graph)


def add_constant_model(name, value):
    """y = x + value for x FP32 [batch, 4]; used to tell model versions apart."""
    const = numpy_helper.from_array(np.array([value], dtype=np.float32), name="k")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "k"], ["y"], name="add_k")],
        name,
        [tensor("x", TensorProto.FLOAT, ["batch", 4])],
        [tensor("y", TensorProto.FLOAT, ["batch", 4])],
        initializer=[const])
    return make_model(graph)


# ---------------------------------------------------------------------------------------------
# Configs (protobuf text format, the Triton model_config subset inferd parses)

SIMPLE_CONFIG = """\
name: "simple"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [
  {
    name: "INPUT0"
    data_type: TYPE_FP32
    dims: [ 16 ]
  },
  {
    name: "INPUT1"
    data_type: TYPE_FP32
    dims: [ 16 ]
  }
]
output [
  {
    name: "OUTPUT0"
    data_type: TYPE_FP32
    dims: [ 16 ]
  },
  {
    name: "OUTPUT1"
    data_type: TYPE_FP32
    dims: [ 16 ]
  }
]
"""

MLP_CONFIG = """\
name: "mlp"
platform: "onnxruntime_onnx"
max_batch_size: 64
input [
  {
    name: "input"
    data_type: TYPE_FP32
    dims: [ 64 ]
  }
]
output [
  {
    name: "logits"
    data_type: TYPE_FP32
    dims: [ 10 ]
  },
  {
    name: "probabilities"
    data_type: TYPE_FP32
    dims: [ 10 ]
    label_filename: "labels.txt"
  }
]
instance_group [
  {
    count: 1
    kind: KIND_CPU
  }
]
dynamic_batching {
  max_queue_delay_microseconds: 2000
}
parameters {
  key: "adaptive_queue_delay"
  value { string_value: "true" }
}
"""


def add_constant_config(name, version_policy):
    return f"""\
name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 8
version_policy: {version_policy}
input [
  {{
    name: "x"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }}
]
output [
  {{
    name: "y"
    data_type: TYPE_FP32
    dims: [ 4 ]
  }}
]
"""


BROKEN_CONFIG = """\
name: "broken"
platform: "onnxruntime_onnx"
max_batch_size: 4
input [
  {
    name: "INPUT0"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
]
output [
  {
    name: "OUTPUT0"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
]
"""

# The model's INPUT0 is FP32; the config says INT32: loading must fail on the contradiction.
BAD_CONFIG = """\
name: "bad_config"
platform: "onnxruntime_onnx"
max_batch_size: 4
input [
  {
    name: "INPUT0"
    data_type: TYPE_INT32
    dims: [ -1 ]
  }
]
output [
  {
    name: "OUTPUT0"
    data_type: TYPE_FP32
    dims: [ -1 ]
  }
]
"""

# `foo` is not a ModelConfig field: parsing must fail, naming the file and line 3.
UNKNOWN_FIELD_CONFIG = """\
name: "unknown_field"
platform: "onnxruntime_onnx"
foo: 1
max_batch_size: 4
"""

# Deterministic, clearly not a protobuf: ONNX Runtime must refuse to load it.
GARBAGE_ONNX = b"this is not an ONNX model\x00\xff\xfe" + bytes(range(256)) * 4


# ---------------------------------------------------------------------------------------------
# Repositories


def write_examples(w):
    w.model("simple", 1, simple_model())
    w.write("simple/config.pbtxt", SIMPLE_CONFIG)

    w.model("mlp", 1, mlp_model())
    w.write("mlp/config.pbtxt", MLP_CONFIG)
    w.write("mlp/labels.txt", "".join(label + "\n" for label in MLP_LABELS))

    # No config.pbtxt: exercises auto-complete from the model's signature.
    w.model("text_upper", 1, text_upper_model())


def write_test_extras(w):
    for dtype, elem_type in IDENTITY_TYPES.items():
        name = f"identity_{dtype}"
        w.model(name, 1, identity_model(name, elem_type))

    for version in (1, 2, 3):
        w.model("versioned", version, add_constant_model("versioned", float(version)))
        w.model("latest2", version, add_constant_model("latest2", float(version)))
    w.write("versioned/config.pbtxt",
            add_constant_config("versioned", "{ specific: { versions: [ 1, 3 ] } }"))
    w.write("latest2/config.pbtxt",
            add_constant_config("latest2", "{ latest: { num_versions: 2 } }"))

    w.write("broken/1/model.onnx", GARBAGE_ONNX)
    w.write("broken/config.pbtxt", BROKEN_CONFIG)

    w.model("bad_config", 1, identity_model("bad_config", TensorProto.FLOAT))
    w.write("bad_config/config.pbtxt", BAD_CONFIG)

    w.model("unknown_field", 1, identity_model("unknown_field", TensorProto.FLOAT))
    w.write("unknown_field/config.pbtxt", UNKNOWN_FIELD_CONFIG)

    write_batching_models(w)


def batching_config(name, dynamic_batching):
    # These models test Triton's semantics — batches that form within the delay, requests held
    # in the queue (overflow, expiry, clients that leave) — so they wait out the delay even
    # alone instead of dispatching early when no other request is coming (docs/scheduling.md);
    # batch_long_delay keeps inferd's default.
    strict = ('parameters { key: "early_dispatch" value { string_value: "false" } }\n'
              if name != "batch_long_delay" else "")
    return f"""name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 16
input {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ 4 ] }}
output {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 4 ] }}
dynamic_batching {dynamic_batching}
{strict}"""


# Dynamic batching models for tests/integration/test_batching.py: a small delay for batching
# under concurrency, a queue of two behind a long delay (overflow), and a long delay with
# per-request timeouts allowed (expiry).
BATCHING_MODELS = {
    "batch_identity": "{ max_queue_delay_microseconds: 2000 }",
    "batch_small_queue": ("{ max_queue_delay_microseconds: 400000 "
                          "default_queue_policy { max_queue_size: 2 } }"),
    "batch_timeout": ("{ max_queue_delay_microseconds: 400000 "
                      "default_queue_policy { allow_timeout_override: true } }"),
    # Triton's config, a long delay, inferd's default early dispatch.
    "batch_long_delay": "{ max_queue_delay_microseconds: 300000 }",
}


def write_batching_models(w):
    for name, dynamic_batching in BATCHING_MODELS.items():
        w.model(name, 1, identity_model(name, TensorProto.FLOAT))
        w.write(f"{name}/config.pbtxt", batching_config(name, dynamic_batching))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--examples", metavar="DIR", help="write the example repository to DIR")
    group.add_argument("--test", metavar="DIR", help="write the test repository to DIR")
    args = parser.parse_args(argv)

    w = RepoWriter(args.examples or args.test)
    write_examples(w)
    if args.test:
        write_test_extras(w)
    print(f"{w.root}: {w.written} written, {w.unchanged} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
