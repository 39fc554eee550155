"""The optimization loop on the real binary and server (#16): `inferd optimize` writes an int8
version into a served repository, the server loads it beside the original, a weighted canary
sends it a share of the traffic, and one call rolls back. Also the command's bad-input errors,
and that nothing is written for a rejected or failed transform."""

import json
import os
import subprocess

import numpy as np
import onnx
import pytest
import requests
from onnx import TensorProto, helper, numpy_helper

from conftest import inferd_binary, start_server, stop_server
from kserve_v2 import json_input

FEATURES, HIDDEN, CLASSES = 16, 32, 5


def dense_model():
    """x [batch, 16] -> MatMul -> Add -> Relu -> MatMul -> Add -> Softmax -> probabilities."""
    rng = np.random.default_rng(16)
    w1 = numpy_helper.from_array(rng.normal(0, 0.5, (FEATURES, HIDDEN)).astype(np.float32), "W1")
    b1 = numpy_helper.from_array(rng.normal(0, 0.1, HIDDEN).astype(np.float32), "b1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.5, (HIDDEN, CLASSES)).astype(np.float32), "W2")
    b2 = numpy_helper.from_array(rng.normal(0, 0.1, CLASSES).astype(np.float32), "b2")
    nodes = [helper.make_node("MatMul", ["x", "W1"], ["h0"]),
             helper.make_node("Add", ["h0", "b1"], ["h1"]),
             helper.make_node("Relu", ["h1"], ["h2"]),
             helper.make_node("MatMul", ["h2", "W2"], ["l0"]),
             helper.make_node("Add", ["l0", "b2"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    graph = helper.make_graph(
        nodes, "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", CLASSES])],
        [w1, b1, w2, b2])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def optimize(*args):
    return subprocess.run([inferd_binary(), "optimize", *map(str, args), "--bench-ms", "5",
                           "--bench-rounds", "1", "--samples", "64"],
                          capture_output=True, text=True, timeout=120)


def versions(model_dir):
    return sorted(p.name for p in model_dir.iterdir())


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("optimize-repo")
    (root / "dense" / "1").mkdir(parents=True)
    onnx.save(dense_model(), str(root / "dense" / "1" / "model.onnx"))
    (root / "dense" / "config.pbtxt").write_text(
        'name: "dense"\nbackend: "onnxruntime"\nmax_batch_size: 8\n'
        "version_policy: { latest: { num_versions: 2 } }\n")
    return root


@pytest.fixture(scope="module")
def srv(repo, tmp_path_factory):
    s = start_server(repo, tmp_path_factory.mktemp("optimize-log"),
                     ["--model-control-mode", "explicit", "--load-model", "dense"])
    yield s
    stop_server(s)


def infer(url, path="/v2/models/dense"):
    x = np.linspace(0, 1, FEATURES, dtype=np.float32).reshape(1, FEATURES)
    r = requests.post(f"{url}{path}/infer", json={"inputs": [json_input("x", "FP32", x)]},
                      timeout=20)
    assert r.status_code == 200, r.text
    body = r.json()
    return int(body["model_version"]), np.array(body["outputs"][0]["data"])


def test_optimized_version_goes_live_as_a_canary_and_rolls_back_in_one_call(repo, srv):
    model_dir = repo / "dense"
    done = optimize(model_dir / "1" / "model.onnx", "--out", model_dir, "--transforms", "int8")
    assert done.returncode == 0, done.stderr
    assert "throughput ÷ orig" in done.stdout and "int8" in done.stdout
    assert "wrote 'int8' as version 2" in done.stdout
    assert versions(model_dir) == ["1", "2", "config.pbtxt"]  # nothing half-written left over
    rewritten = onnx.load(str(model_dir / "2" / "model.onnx"))
    assert {n.op_type for n in rewritten.graph.node} >= {"MatMulInteger", "DynamicQuantizeLinear"}

    r = requests.post(f"{srv.base_url}/v2/repository/models/dense/load", timeout=30)
    assert r.status_code == 200, r.text
    v1, out1 = infer(srv.base_url, "/v2/models/dense/versions/1")
    v2, out2 = infer(srv.base_url, "/v2/models/dense/versions/2")
    assert (v1, v2) == (1, 2)
    assert np.abs(out1 - out2).max() < 0.05  # int8 stays close to the original

    r = requests.post(f"{srv.base_url}/v2/repository/models/dense/routing",
                      json={"policy": "weighted:1=50,2=50"}, timeout=10)
    assert r.status_code == 200, r.text
    answered = {infer(srv.base_url)[0] for _ in range(60)}
    assert answered == {1, 2}  # P(one version missing in 60 draws) = 2^-59

    r = requests.post(f"{srv.base_url}/v2/repository/models/dense/rollback", timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["routing"] == "pinned:1"
    assert {infer(srv.base_url)[0] for _ in range(10)} == {1}


def test_a_transform_beyond_the_accuracy_drop_is_reported_and_not_written(repo, tmp_path):
    out = tmp_path / "dense"
    done = optimize(repo / "dense" / "1" / "model.onnx", "--out", out, "--transforms",
                    "prune:0.95", "--max-accuracy-drop", "0")
    assert done.returncode == 1
    assert "rejected" in done.stdout and "nothing written" in done.stderr
    assert not out.exists()


def test_bad_inputs_get_errors_that_name_the_problem(repo, tmp_path):
    model = repo / "dense" / "1" / "model.onnx"
    not_onnx = tmp_path / "config.onnx"
    not_onnx.write_text('name: "dense"\n')
    done = optimize(not_onnx, "--out", tmp_path / "a")
    assert done.returncode == 1 and "is not an ONNX model" in done.stderr

    bad_eval = tmp_path / "eval.json"
    bad_eval.write_text(json.dumps({"inputs": {"pixels": [[0.0] * FEATURES]}}))
    done = optimize(model, "--out", tmp_path / "b", "--eval", bad_eval)
    assert done.returncode == 1
    assert "'pixels' is not an input of the model" in done.stderr
    bad_eval.write_text(json.dumps({"inputs": {"x": [[0.0] * 3]}}))
    done = optimize(model, "--out", tmp_path / "b", "--eval", bad_eval)
    assert done.returncode == 1 and "the model takes 16" in done.stderr

    relu = helper.make_model(helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])]),
        opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    relu_path = tmp_path / "relu.onnx"
    onnx.save(relu, str(relu_path))
    done = optimize(relu_path, "--out", tmp_path / "c", "--transforms", "int8")
    assert done.returncode == 1
    assert "no MatMul or Gemm" in done.stdout and "nothing written" in done.stderr
    assert not (tmp_path / "c").exists()
