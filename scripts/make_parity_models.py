#!/usr/bin/python3
"""Generates the small ONNX models that check inferd against Triton's conventions (issue #18),
laid out as a Triton model repository:

    /usr/bin/python3 scripts/make_parity_models.py DIR

- densenet_like: shaped like Triton's quick-start densenet_onnx (input dims [3,8,8] with
  reshape [1,3,8,8]; output [1,10,1,1] reshaped to [10]), with a config that says so;
- reduce_empty_axes: ReduceSum whose `axes` input is zero-sized (ONNX's own test shape);
- constant: a model with no inputs at all;
- add_any: Add of two variable-length vectors (mismatched lengths fail inside the engine);
- identity_fp32: FP32 identity of any length (shared memory tests and benchmark);
- accumulator: a stateful running sum for sequence batching (see docs/scheduling.md);
- sequence_controls: echoes the END, READY and CORRID control inputs it is fed.

The sequence models get their config.pbtxt from the tests (tests/integration/
test_sequence_batching.py), which try several strategies on them.

Uses make_models.py's writer, so the output is deterministic and unchanged files are untouched.
"""

import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_models import RepoWriter, make_model, tensor  # noqa: E402

FLOAT, INT64 = TensorProto.FLOAT, TensorProto.INT64
DENSENET_CLASSES = 10


def densenet_weights():
    rng = np.random.RandomState(18)
    return rng.standard_normal((DENSENET_CLASSES, 3, 1, 1)).astype(np.float32)


def densenet_like_model():
    """GlobalAveragePool then a 1x1 convolution: [1,3,8,8] -> [1,10,1,1]."""
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["data_0"], ["pooled"]),
         helper.make_node("Conv", ["pooled", "W"], ["fc6_1"])],
        "densenet_like",
        [tensor("data_0", FLOAT, [1, 3, 8, 8])],
        [tensor("fc6_1", FLOAT, [1, DENSENET_CLASSES, 1, 1])],
        initializer=[numpy_helper.from_array(densenet_weights(), "W")])
    return make_model(graph)


DENSENET_CONFIG = """name: "densenet_like"
platform: "onnxruntime_onnx"
max_batch_size: 0
input [ { name: "data_0" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 8, 8 ]
          reshape { shape: [ 1, 3, 8, 8 ] } } ]
output [ { name: "fc6_1" data_type: TYPE_FP32 dims: [ 10 ]
           reshape { shape: [ 1, 10, 1, 1 ] } } ]
"""


def reduce_empty_axes_model():
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["data", "axes"], ["sum"], keepdims=1)],
        "reduce_empty_axes",
        [tensor("data", FLOAT, [2, 3]), tensor("axes", INT64, [0])],
        [tensor("sum", FLOAT, [1, 1])])
    return make_model(graph)


def constant_model():
    value = numpy_helper.from_array(np.array([1, 2, 3], dtype=np.float32), "value")
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["OUT"], value=value)], "constant", [],
        [tensor("OUT", FLOAT, [3])])
    return make_model(graph)


def add_any_model():
    graph = helper.make_graph(
        [helper.make_node("Add", ["A", "B"], ["C"])], "add_any",
        [tensor("A", FLOAT, ["a"]), tensor("B", FLOAT, ["b"])], [tensor("C", FLOAT, ["c"])])
    return make_model(graph)


def identity_fp32_model():
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT0"], ["OUTPUT0"])], "identity_fp32",
        [tensor("INPUT0", FLOAT, ["n"])], [tensor("OUTPUT0", FLOAT, ["n"])])
    return make_model(graph)


def accumulator_model():
    """OUTPUT = STATE_IN + INPUT; STATE_OUT = the same sum. With START set the old state is
    ignored: sum = INPUT (state * (1 - START) + INPUT)."""
    shape = ["batch", 1]
    graph = helper.make_graph(
        [helper.make_node("Sub", ["one", "START"], ["keep"]),
         helper.make_node("Mul", ["STATE_IN", "keep"], ["kept"]),
         helper.make_node("Add", ["kept", "INPUT"], ["OUTPUT"]),
         helper.make_node("Identity", ["OUTPUT"], ["STATE_OUT"])],
        "accumulator",
        [tensor("INPUT", FLOAT, shape), tensor("START", FLOAT, shape),
         tensor("STATE_IN", FLOAT, shape)],
        [tensor("OUTPUT", FLOAT, shape), tensor("STATE_OUT", FLOAT, shape)],
        initializer=[numpy_helper.from_array(np.array([1], dtype=np.float32), "one")])
    return make_model(graph)


def sequence_controls_model():
    """Echoes the sequence batcher's END, READY and CORRID control inputs as outputs."""
    shape = ["batch", 1]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT"], ["OUTPUT"]),
         helper.make_node("Identity", ["END"], ["OUT_END"]),
         helper.make_node("Identity", ["READY"], ["OUT_READY"]),
         helper.make_node("Identity", ["CORRID"], ["OUT_CORRID"])],
        "sequence_controls",
        [tensor("INPUT", FLOAT, shape), tensor("END", TensorProto.INT32, shape),
         tensor("READY", TensorProto.INT32, shape), tensor("CORRID", TensorProto.UINT64, shape)],
        [tensor("OUTPUT", FLOAT, shape), tensor("OUT_END", TensorProto.INT32, shape),
         tensor("OUT_READY", TensorProto.INT32, shape),
         tensor("OUT_CORRID", TensorProto.UINT64, shape)])
    return make_model(graph)


# Without these, auto-complete would make the variable-length models batchable (max_batch_size
# 4, the leading dim the batch): they are plain vectors of any length instead.
ADD_ANY_CONFIG = """max_batch_size: 0
input [ { name: "A" data_type: TYPE_FP32 dims: [ -1 ] },
        { name: "B" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "C" data_type: TYPE_FP32 dims: [ -1 ] } ]
"""
IDENTITY_FP32_CONFIG = """max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
"""


def main(argv):
    if len(argv) != 1:
        print(__doc__)
        return 2
    w = RepoWriter(argv[0])
    w.model("densenet_like", 1, densenet_like_model())
    w.write("densenet_like/config.pbtxt", DENSENET_CONFIG)
    w.model("reduce_empty_axes", 1, reduce_empty_axes_model())
    w.model("constant", 1, constant_model())
    w.model("add_any", 1, add_any_model())
    w.write("add_any/config.pbtxt", ADD_ANY_CONFIG)
    w.model("identity_fp32", 1, identity_fp32_model())
    w.write("identity_fp32/config.pbtxt", IDENTITY_FP32_CONFIG)
    w.model("accumulator", 1, accumulator_model())
    w.model("sequence_controls", 1, sequence_controls_model())
    print(f"{w.root}: {w.written} written, {w.unchanged} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
