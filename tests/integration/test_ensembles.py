"""Ensembles (platform "ensemble", Triton's ensemble_scheduling) through a real server: a
chain and a diamond of ONNX models over HTTP and gRPC, metadata/config/statistics of the
ensemble and of its composing models, load-time validation errors in the repository index,
run-time errors that name the failing step, and an ensemble bringing its composing models
along when it is loaded in explicit mode."""

import pathlib
import re
import sys

import grpc
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import Client, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response, stubs
from kserve_v2 import error_message, json_input, parse_infer_response as parse_http

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))
import make_models  # noqa: E402

TIMEOUT_S = 20


def add_model(name, value):
    """y = x + value for x FP32 [batch, 4]."""
    const = numpy_helper.from_array(np.array([value], dtype=np.float32), name="k")
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "k"], ["y"])], name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
        initializer=[const])
    return make_models.make_model(graph)


def add_sub_model():
    """SUM = a + b, DIFF = a - b for FP32 [batch, 4]."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["SUM"]), helper.make_node("Sub", ["a", "b"], ["DIFF"])],
        "add_sub",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 4]) for n in ("a", "b")],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 4]) for n in ("SUM", "DIFF")])
    return make_models.make_model(graph)


def narrow_model():
    """y = x for x FP32 [batch, 3]: takes one element fewer than the others give."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "narrow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])])
    return make_models.make_model(graph)


def model_config(name, inputs, outputs):
    tensors = "".join(f'input {{ name: "{n}" data_type: TYPE_FP32 dims: [ 4 ] }}\n' for n in inputs)
    tensors += "".join(f'output {{ name: "{n}" data_type: TYPE_FP32 dims: [ 4 ] }}\n'
                       for n in outputs)
    return f'name: "{name}" platform: "onnxruntime_onnx" max_batch_size: 8\n{tensors}'


def step(model, inputs, outputs):
    ins = " ".join(f'input_map {{ key: "{k}" value: "{v}" }}' for k, v in inputs.items())
    outs = " ".join(f'output_map {{ key: "{k}" value: "{v}" }}' for k, v in outputs.items())
    return f'{{ model_name: "{model}" model_version: -1 {ins} {outs} }}'


def ensemble_config(name, inputs, outputs, steps, dtype="TYPE_FP32"):
    tensors = "".join(f'input {{ name: "{n}" data_type: {dtype} dims: [ 4 ] }}\n' for n in inputs)
    tensors += "".join(f'output {{ name: "{n}" data_type: TYPE_FP32 dims: [ 4 ] }}\n'
                       for n in outputs)
    return (f'name: "{name}"\nplatform: "ensemble"\nmax_batch_size: 8\n{tensors}'
            f'ensemble_scheduling {{\n  step [\n    ' + ",\n    ".join(steps) + "\n  ]\n}\n")


# X -> add1 -> MID -> add10 -> Y
CHAIN = ensemble_config("chain", ["X"], ["Y", "MID"], [
    step("add10", {"x": "MID"}, {"y": "Y"}),
    step("add1", {"x": "X"}, {"y": "MID"})])
# X -> add1 -> A, X -> add10 -> B, (A, B) -> add_sub -> SUM, DIFF
DIAMOND = ensemble_config("diamond", ["X"], ["SUM", "DIFF"], [
    step("add1", {"x": "X"}, {"y": "A"}),
    step("add10", {"x": "X"}, {"y": "B"}),
    step("add_sub", {"a": "A", "b": "B"}, {"SUM": "SUM", "DIFF": "DIFF"})])
# An ensemble of an ensemble: chain, then add1 again.
NESTED = ensemble_config("nested", ["X"], ["Z"], [
    step("chain", {"X": "X"}, {"Y": "Y"}),
    step("add1", {"x": "Y"}, {"y": "Z"})])
# Step 2 gets [2, 4] where its model takes [-1, 3]: passes load, fails at run time naming step 2.
MISMATCH = ensemble_config("mismatch", ["X"], ["Y"], [
    step("add1", {"x": "X"}, {"y": "T"}),
    step("narrow", {"x": "T"}, {"y": "Y"})])
# A choice by request parameter: add1 when parameters.plus == 'one', else add10.
ROUTE = ensemble_config("route", ["X"], ["Y"], [
    step("add1", {"x": "X"}, {"y": "Y"}).replace("model_version: -1",
                                                 "model_version: -1 run_if: \"parameters.plus == 'one'\""),
    step("add10", {"x": "X"}, {"y": "Y"}).replace("model_version: -1",
                                                  "model_version: -1 run_if: \"parameters.plus != 'one'\"")])
# A choice by an earlier output: A = X + 1, then add10 when A's first element >= 10, else add1.
GATE = ensemble_config("gate", ["X"], ["Y"], [
    step("add1", {"x": "X"}, {"y": "A"}),
    step("add10", {"x": "A"}, {"y": "Y"}).replace("model_version: -1",
                                                  "model_version: -1 run_if: \"A >= 10\""),
    step("add1", {"x": "A"}, {"y": "Y"}).replace("model_version: -1",
                                                 "model_version: -1 run_if: \"A < 10\"")])
BROKEN = {
    "unknown_step": (ensemble_config("unknown_step", ["X"], ["Y"], [
        step("no_such_model", {"x": "X"}, {"y": "Y"})]),
        "step 1 (model 'no_such_model'): model 'no_such_model' is not in the model repository"),
    "unmapped": (ensemble_config("unmapped", ["X"], ["Y"], [
        step("add1", {"x": "X"}, {"y": "T"}), step("add10", {"x": "TT"}, {"y": "Y"})]),
        "step 2 (model 'add10') reads 'TT', which is neither an ensemble input nor the output"),
    "loop_a": (ensemble_config("loop_a", ["X"], ["Y"], [step("loop_b", {"X": "X"}, {"Y": "Y"})]),
               "makes the ensemble contain itself (loop_a -> loop_b -> loop_a)"),
    "loop_b": (ensemble_config("loop_b", ["X"], ["Y"], [step("loop_a", {"X": "X"}, {"Y": "Y"})]),
               "makes the ensemble contain itself (loop_b -> loop_a -> loop_b)"),
    "wrong_name": (ensemble_config("wrong_name", ["X"], ["Y"], [
        step("add1", {"input": "X"}, {"y": "Y"})]),
        "step 1 (model 'add1') maps input 'input', which the model does not have"),
    "bad_condition": (ensemble_config("bad_condition", ["X"], ["Y"], [
        step("add1", {"x": "X"}, {"y": "Y"}).replace("model_version: -1",
                                                     "model_version: -1 run_if: \"SCORE > 1\"")]),
        "step 1 (model 'add1'): run_if 'SCORE > 1' tests 'SCORE', which is neither an "
        "ensemble input nor the output of any step"),
    "cycle": (ensemble_config("cycle", ["X"], ["Y"], [
        step("add_sub", {"a": "X", "b": "B"}, {"SUM": "Y", "DIFF": "A"}),
        step("add1", {"x": "A"}, {"y": "B"})]),
        "the steps form a cycle: step 1 (model 'add_sub'), step 2 (model 'add1')"),
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble_models")
    models = {"add1": (add_model("add1", 1.0), model_config("add1", ["x"], ["y"])),
              "add10": (add_model("add10", 10.0), model_config("add10", ["x"], ["y"])),
              "add_sub": (add_sub_model(), model_config("add_sub", ["a", "b"], ["SUM", "DIFF"])),
              "narrow": (narrow_model(), model_config("narrow", ["x"], ["y"])
                         .replace("dims: [ 4 ]", "dims: [ 3 ]"))}
    for name, (model, config) in models.items():
        (root / name / "1").mkdir(parents=True)
        (root / name / "1" / "model.onnx").write_bytes(model.SerializeToString())
        (root / name / "config.pbtxt").write_text(config)
    configs = {"chain": CHAIN, "diamond": DIAMOND, "nested": NESTED, "mismatch": MISMATCH,
               "route": ROUTE, "gate": GATE}
    configs.update({name: text for name, (text, _) in BROKEN.items()})
    for name, text in configs.items():
        (root / name).mkdir()
        (root / name / "config.pbtxt").write_text(text)
    (root / "chain" / "1").mkdir()  # Triton's layout; "diamond" goes without a version folder
    return root


@pytest.fixture(scope="module")
def pipeline_server(repo, tmp_path_factory):
    srv = start_server(repo, tmp_path_factory.mktemp("ensemble_log"),
                       ["--model-control-mode", "explicit", "--load-model", "*"])
    yield srv
    stop_server(srv)


@pytest.fixture
def http(pipeline_server):
    c = Client(pipeline_server.base_url)
    yield c
    c.session.close()


@pytest.fixture(scope="module")
def stub(pipeline_server):
    ch = grpc.insecure_channel(pipeline_server.grpc_target)
    grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
    yield stubs().rpc.GRPCInferenceServiceStub(ch)
    ch.close()


X = np.array([[1, 2, 3, 4], [10, 20, 30, 40]], dtype=np.float32)


def http_infer(http, model, x=X, **kwargs):
    r = http.infer(model, {"inputs": [json_input("X", "FP32", x)], **kwargs})
    assert r.status_code == 200, r.text
    return parse_http(r)[1]


def test_a_chain_runs_its_steps_in_data_order_over_http(http):
    out = http_infer(http, "chain")
    np.testing.assert_array_equal(out["MID"], X + 1)
    np.testing.assert_array_equal(out["Y"], X + 11)


def test_a_diamond_joins_two_branches(http):
    out = http_infer(http, "diamond")
    np.testing.assert_array_equal(out["SUM"], 2 * X + 11)
    np.testing.assert_array_equal(out["DIFF"], np.full_like(X, -9))


def test_only_the_requested_outputs_come_back(http):
    out = http_infer(http, "chain", outputs=[{"name": "Y"}])
    assert list(out) == ["Y"]


def test_an_ensemble_can_run_an_ensemble(http):
    np.testing.assert_array_equal(http_infer(http, "nested")["Z"], X + 12)


def test_ensembles_answer_over_grpc(stub):
    resp = stub.ModelInfer(make_infer_request("diamond", [("X", "FP32", X)]), timeout=TIMEOUT_S)
    out = parse_infer_response(resp)
    assert resp.model_name == "diamond"
    np.testing.assert_array_equal(out["SUM"], 2 * X + 11)
    resp = stub.ModelInfer(make_infer_request("chain", [("X", "FP32", X)], raw=False),
                           timeout=TIMEOUT_S)
    np.testing.assert_array_equal(parse_infer_response(resp)["Y"], X + 11)


def test_grpc_metadata_and_config_describe_the_ensemble(stub):
    pb = stubs().pb
    meta = stub.ModelMetadata(pb.ModelMetadataRequest(name="chain"), timeout=TIMEOUT_S)
    assert meta.platform == "ensemble"
    assert [t.name for t in meta.inputs] == ["X"]
    config = stub.ModelConfig(pb.ModelConfigRequest(name="chain"), timeout=TIMEOUT_S).config
    steps = config.ensemble_scheduling.step
    assert [s.model_name for s in steps] == ["add10", "add1"]
    assert dict(steps[1].output_map) == {"y": "MID"}


def test_http_metadata_and_config_describe_the_ensemble(http):
    meta = http.get("/v2/models/diamond").json()
    assert meta["platform"] == "ensemble"
    assert meta["versions"] == ["1"]
    assert {o["name"] for o in meta["outputs"]} == {"SUM", "DIFF"}
    config = http.get("/v2/models/diamond/config").json()
    assert [s["model_name"] for s in config["ensemble_scheduling"]["step"]] == \
        ["add1", "add10", "add_sub"]


def stats_of(http, model):
    r = http.get(f"/v2/models/{model}/stats")
    assert r.status_code == 200, r.text
    return r.json()["model_stats"][0]["inference_stats"]["success"]["count"]


def test_the_ensemble_and_each_composing_model_keep_their_own_statistics(http, stub):
    before = {m: stats_of(http, m) for m in ("diamond", "add1", "add10", "add_sub")}
    http_infer(http, "diamond")
    after = {m: stats_of(http, m) for m in before}
    assert {m: after[m] - before[m] for m in after} == \
        {"diamond": 1, "add1": 1, "add10": 1, "add_sub": 1}
    pb = stubs().pb
    stats = stub.ModelStatistics(pb.ModelStatisticsRequest(name="diamond"), timeout=TIMEOUT_S)
    assert stats.model_stats[0].inference_stats.success.count == after["diamond"]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_bad_ensemble_is_unavailable_with_a_clear_reason(http, name):
    index = {m["name"]: m for m in http.post("/v2/repository/index", json={}).json()}
    assert index[name]["state"] == "UNAVAILABLE"
    assert BROKEN[name][1] in index[name]["reason"]
    for other in ("add1", "add10", "add_sub"):
        assert index[other]["state"] == "READY"


def test_a_failing_step_is_named_in_the_error_over_http_and_grpc(http, stub):
    r = http.infer("mismatch", {"inputs": [json_input("X", "FP32", X)]})
    assert r.status_code == 400, r.text
    assert "ensemble 'mismatch' step 2 (model 'narrow')" in error_message(r)
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(make_infer_request("mismatch", [("X", "FP32", X)]), timeout=TIMEOUT_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "step 2 (model 'narrow')" in info.value.details()


def test_bad_input_to_the_ensemble_is_refused_before_any_step(http):
    before = stats_of(http, "add1")
    r = http.infer("chain", {"inputs": [json_input("X", "INT32", X.astype(np.int32))]})
    assert r.status_code == 400
    assert stats_of(http, "add1") == before


def test_loading_an_ensemble_brings_its_composing_models(repo, tmp_path):
    srv = start_server(repo, tmp_path, ["--model-control-mode", "explicit"])
    try:
        c = Client(srv.base_url)
        r = c.post("/v2/repository/models/diamond/load", json={})
        assert r.status_code == 200, r.text
        index = {m["name"]: m.get("state") for m in c.post("/v2/repository/index", json={}).json()}
        for name in ("diamond", "add1", "add10", "add_sub"):
            assert index[name] == "READY", index
        assert index.get("chain") != "READY"
        np.testing.assert_array_equal(http_infer(c, "diamond")["SUM"], 2 * X + 11)
        # Unloading a composing model leaves the ensemble loaded; its requests then fail
        # naming the step, until the model is back.
        assert c.post("/v2/repository/models/add10/unload", json={}).status_code == 200
        r = c.infer("diamond", {"inputs": [json_input("X", "FP32", X)]})
        assert r.status_code >= 400
        assert "step 2 (model 'add10')" in error_message(r)
        c.session.close()
    finally:
        stop_server(srv)


def test_a_request_parameter_picks_the_branch_over_http_and_grpc(http, stub):
    before = stats_of(http, "add10")
    np.testing.assert_array_equal(http_infer(http, "route", parameters={"plus": "one"})["Y"], X + 1)
    assert stats_of(http, "add10") == before  # the branch not taken did not run
    np.testing.assert_array_equal(http_infer(http, "route", parameters={"plus": "ten"})["Y"],
                                  X + 10)
    # Without the parameter neither comparison holds (documented): no branch writes Y.
    r = http.infer("route", {"inputs": [json_input("X", "FP32", X)]})
    assert r.status_code == 400
    assert "no step wrote output 'Y'" in error_message(r)
    resp = stub.ModelInfer(make_infer_request("route", [("X", "FP32", X)],
                                              parameters={"plus": "one"}), timeout=TIMEOUT_S)
    np.testing.assert_array_equal(parse_infer_response(resp)["Y"], X + 1)


def test_an_earlier_output_picks_the_branch(http):
    small = np.full((1, 4), 2, dtype=np.float32)   # A = 3: add1 again
    large = np.full((1, 4), 20, dtype=np.float32)  # A = 21: add10
    np.testing.assert_array_equal(http_infer(http, "gate", x=small)["Y"], small + 2)
    np.testing.assert_array_equal(http_infer(http, "gate", x=large)["Y"], large + 11)


def test_a_condition_comparing_the_wrong_kind_names_the_step(http):
    r = http.infer("route", {"inputs": [json_input("X", "FP32", X)], "parameters": {"plus": 1}})
    assert r.status_code == 400, r.text
    assert "ensemble 'route' step 1 (model 'add1'): run_if compares parameter 'plus'" in \
        error_message(r)


def test_a_bad_condition_is_reported_with_its_file_and_line(http):
    index = {m["name"]: m for m in http.post("/v2/repository/index", json={}).json()}
    assert re.search(r"bad_condition/config\.pbtxt:8:\d+: step 1 \(model 'add1'\): run_if",
                     index["bad_condition"]["reason"]), index["bad_condition"]
