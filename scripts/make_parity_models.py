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
- sequence_controls: echoes the END, READY and CORRID control inputs it is fed;
- padded_encoder: a variable-length encoder for padded batching (tokens and per-token scales in,
  per-token vectors and their mean over the true length out; the server feeds the lengths).

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


PADDED_VOCAB, PADDED_WIDTH = 32, 8


def padded_encoder_weights(width=PADDED_WIDTH):
    rng = np.random.RandomState(181)
    embedding = rng.standard_normal((PADDED_VOCAB, width)).astype(np.float32)
    dense = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)
    return embedding, dense


def padded_encoder_model(width=PADDED_WIDTH):
    """per_token = Relu(E[tokens] * scale @ W), [batch, len, width]; pooled = the mean of
    per_token over the first `lengths` positions of each row, [batch, width] (padding beyond a
    row's length does not change it)."""
    embedding, dense = padded_encoder_weights(width)
    nodes = [
        helper.make_node("Gather", ["E", "tokens"], ["embedded"]),
        helper.make_node("Unsqueeze", ["scale", "axis2"], ["scale3"]),
        helper.make_node("Mul", ["embedded", "scale3"], ["scaled"]),
        helper.make_node("MatMul", ["scaled", "W"], ["projected"]),
        helper.make_node("Relu", ["projected"], ["per_token"]),
        # mask[b, l] = l < lengths[b]
        helper.make_node("Shape", ["tokens"], ["tokens_shape"]),
        helper.make_node("Gather", ["tokens_shape", "one"], ["length_scalar"], axis=0),
        helper.make_node("Range", ["zero", "length_scalar", "one"], ["positions"]),
        helper.make_node("Unsqueeze", ["lengths", "axis1"], ["lengths2"]),
        helper.make_node("Less", ["positions", "lengths2"], ["mask_bool"]),
        helper.make_node("Cast", ["mask_bool"], ["mask"], to=FLOAT),
        helper.make_node("Unsqueeze", ["mask", "axis2"], ["mask3"]),
        helper.make_node("Mul", ["per_token", "mask3"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0),
        helper.make_node("Cast", ["lengths2"], ["count"], to=FLOAT),
        helper.make_node("Max", ["count", "one_f"], ["count_nonzero"]),
        helper.make_node("Div", ["summed", "count_nonzero"], ["pooled"]),
    ]
    graph = helper.make_graph(
        nodes, "padded_encoder",
        [tensor("tokens", INT64, ["batch", "len"]), tensor("scale", FLOAT, ["batch", "len"]),
         tensor("lengths", INT64, ["batch"])],
        [tensor("per_token", FLOAT, ["batch", "len", width]),
         tensor("pooled", FLOAT, ["batch", width])],
        initializer=[numpy_helper.from_array(embedding, "E"), numpy_helper.from_array(dense, "W"),
                     numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
                     numpy_helper.from_array(np.array([2], dtype=np.int64), "axis2"),
                     numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
                     numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
                     numpy_helper.from_array(np.array(1, dtype=np.float32), "one_f")])
    return make_model(graph)


PADDED_ENCODER_CONFIG = """max_batch_size: 16
input [ { name: "tokens" data_type: TYPE_INT64 dims: [ -1 ] },
        { name: "scale" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "per_token" data_type: TYPE_FP32 dims: [ -1, 8 ] },
         { name: "pooled" data_type: TYPE_FP32 dims: [ 8 ] } ]
dynamic_batching {
  max_queue_delay_microseconds: 100000
  padding {
    input [ { name: "tokens" pad_value: 0 }, { name: "scale" pad_value: 0 } ]
    length_buckets: [ 8, 16 ]
    lengths_input: "lengths"
    output: "per_token"
  }
}
# Hold requests the whole delay, so the test's concurrent requests meet in one batch.
parameters { key: "early_dispatch" value: { string_value: "false" } }
"""


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
    w.model("padded_encoder", 1, padded_encoder_model())
    w.write("padded_encoder/config.pbtxt", PADDED_ENCODER_CONFIG)
    print(f"{w.root}: {w.written} written, {w.unchanged} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
