"""The TorchScript backend through the real server, next to ONNX models in one repository:
HTTP and gRPC inference, every libtorch data type, named forward() arguments, dynamic
batching, reload, bad input, statistics and metrics, and a model that cannot load. Skipped
when the binary was built without the backend (INFERD_WITH_TORCH=OFF: the sanitizer presets).
"""

import concurrent.futures
import filecmp
import json
import os
import shutil
import subprocess
import sys

import grpc
import numpy as np
import pytest
import requests

from conftest import MAKE_MODELS, REPO_ROOT, start_server, stop_server
from grpc_client import make_infer_request
from grpc_client import parse_infer_response as parse_grpc_response
from kserve_v2 import (assert_same_tensor, binary_request, dtype_sample, error_message,
                       json_input, parse_infer_response)

MAKE_TORCH_MODELS = REPO_ROOT / "scripts" / "make_torch_models.py"
TIMEOUT_S = 30
# Every data type libtorch has; BF16 travels as raw bytes (numpy has no bfloat16).
TORCH_DTYPES = ["BOOL", "UINT8", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64"]

pytestmark = pytest.mark.skipif(os.environ.get("INFERD_TORCH", "1") in ("0", "OFF", ""),
                                reason="inferd built without the TorchScript backend")


@pytest.fixture(scope="module")
def torch_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("torch_models")
    subprocess.run([sys.executable, str(MAKE_MODELS), "--examples", str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([sys.executable, str(MAKE_TORCH_MODELS), "--test", str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    return repo


@pytest.fixture(scope="module")
def srv(torch_repo, tmp_path_factory):
    s = start_server(torch_repo, tmp_path_factory.mktemp("torch_log"),
                     ["--model-control-mode", "explicit", "--load-model", "*"])
    yield s
    stop_server(s)


def infer(srv, model, body, **kwargs):
    return requests.post(f"{srv.base_url}/v2/models/{model}/infer", json=body, timeout=TIMEOUT_S,
                         **kwargs)


def outputs_of(resp):
    return {o["name"]: np.array(o["data"]) for o in resp.json()["outputs"]}


def stats(srv, model):
    r = requests.get(f"{srv.base_url}/v2/models/{model}/stats", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["model_stats"][0]


def mlp_input(rows):
    return np.random.RandomState(rows).standard_normal((rows, 64)).astype(np.float32)


def test_committed_torch_example_matches_the_generator_byte_for_byte(tmp_path):
    subprocess.run([sys.executable, str(MAKE_TORCH_MODELS), "--examples", str(tmp_path)],
                   check=True, stdout=subprocess.DEVNULL)
    for path in sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()):
        committed = REPO_ROOT / "examples" / "models" / path
        assert committed.is_file() and filecmp.cmp(committed, tmp_path / path, shallow=False), (
            f"examples/models/{path} is stale; regenerate with "
            f"/usr/bin/python3 scripts/make_torch_models.py --examples examples/models")


def test_onnx_and_torchscript_models_serve_side_by_side_with_the_same_answers(srv):
    index = requests.post(f"{srv.base_url}/v2/repository/index", timeout=10).json()
    state = {m["name"]: m["state"] for m in index}
    assert state["mlp"] == "READY" and state["mlp_torch"] == "READY", index
    x = mlp_input(3)
    onnx = outputs_of(infer(srv, "mlp", {"inputs": [json_input("input", "FP32", x)]}))
    torch = outputs_of(infer(srv, "mlp_torch", {"inputs": [json_input("INPUT__0", "FP32", x)]}))
    np.testing.assert_allclose(torch["LOGITS__0"], onnx["logits"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(torch["PROBABILITIES__1"], onnx["probabilities"], atol=1e-6)


def test_model_metadata_and_config_name_the_pytorch_platform(srv):
    meta = requests.get(f"{srv.base_url}/v2/models/mlp_torch", timeout=10).json()
    assert meta["platform"] == "pytorch_libtorch"
    assert [i["name"] for i in meta["inputs"]] == ["INPUT__0"]
    assert meta["inputs"][0]["shape"] == [-1, 64]
    cfg = requests.get(f"{srv.base_url}/v2/models/mlp_torch/config", timeout=10).json()
    assert cfg["backend"] == "pytorch"


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_every_libtorch_dtype_round_trips_over_http_binary(srv, dtype):
    arr = dtype_sample(dtype)
    body, headers = binary_request([("INPUT__0", dtype, arr)])
    r = requests.post(f"{srv.base_url}/v2/models/torch_identity_{dtype.lower()}/infer",
                      data=body, headers=headers, timeout=TIMEOUT_S)
    _, out = parse_infer_response(r)
    assert_same_tensor(out["OUTPUT__0"], arr, dtype)


def test_bf16_round_trips_as_raw_bytes(srv):
    raw = np.array([[0x3F80, 0xC000, 0x7F7F], [0x0000, 0x3E80, 0x4049]], np.uint16)  # bf16 bits
    blob = raw.astype("<u2").tobytes()
    head = json.dumps({"inputs": [{"name": "INPUT__0", "datatype": "BF16", "shape": [2, 3],
                                   "parameters": {"binary_data_size": len(blob)}}],
                       "parameters": {"binary_data_output": True}}).encode()
    body = head + blob
    headers = {"Inference-Header-Content-Length": str(len(head)),
               "Content-Type": "application/octet-stream"}
    r = requests.post(f"{srv.base_url}/v2/models/torch_identity_bf16/infer", data=body,
                      headers=headers, timeout=TIMEOUT_S)
    assert r.status_code == 200, r.text
    header_len = int(r.headers["Inference-Header-Content-Length"])
    assert r.content[header_len:] == blob


@pytest.mark.parametrize("dtype", [d for d in TORCH_DTYPES if d != "FP16"])
def test_every_libtorch_dtype_round_trips_over_grpc(stub, dtype):
    arr = dtype_sample(dtype)
    req = make_infer_request(f"torch_identity_{dtype.lower()}", [("INPUT__0", dtype, arr)],
                             raw=False)
    out = parse_grpc_response(stub.ModelInfer(req, timeout=TIMEOUT_S))
    assert_same_tensor(out["OUTPUT__0"], arr, dtype)


def test_grpc_and_http_give_the_same_mlp_answer(srv, stub):
    x = mlp_input(2)
    http = outputs_of(infer(srv, "mlp_torch", {"inputs": [json_input("INPUT__0", "FP32", x)]}))
    out = parse_grpc_response(stub.ModelInfer(
        make_infer_request("mlp_torch", [("INPUT__0", "FP32", x)]), timeout=TIMEOUT_S))
    np.testing.assert_allclose(out["LOGITS__0"].flatten(), http["LOGITS__0"], rtol=1e-6)


def test_inputs_meet_forward_arguments_by_name_and_outputs_by_index(srv):
    r = infer(srv, "torch_named", {"inputs": [json_input("x", "INT32", np.array([1, 2, 3])),
                                              json_input("y", "INT32", np.array([10, 20, 30]))]})
    assert r.status_code == 200, r.text
    out = outputs_of(r)
    assert out["SUM__0"].tolist() == [11, 22, 33]
    assert out["PRODUCT__1"].tolist() == [10, 40, 90]


def test_concurrent_requests_batch_together_and_each_gets_its_own_rows(srv):
    before = stats(srv, "torch_batching")

    def one(i):
        rows = 1 + i % 3
        arr = np.arange(rows * 4, dtype=np.float32).reshape(rows, 4) + 1000 * i
        with requests.Session() as s:
            r = s.post(f"{srv.base_url}/v2/models/torch_batching/infer",
                       json={"inputs": [json_input("INPUT__0", "FP32", arr)]}, timeout=TIMEOUT_S)
        assert r.status_code == 200, r.text
        out = r.json()["outputs"][0]
        assert out["shape"] == [rows, 4]
        np.testing.assert_array_equal(np.array(out["data"], np.float32).reshape(rows, 4), arr)
        return rows

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        total_rows = sum(pool.map(one, range(48)))
    after = stats(srv, "torch_batching")
    done = after["inference_stats"]["success"]["count"] - before["inference_stats"]["success"]["count"]
    executions = after["execution_count"] - before["execution_count"]
    assert done == 48
    assert after["inference_count"] - before["inference_count"] == total_rows
    assert executions < done, (executions, done)


def test_bad_input_is_a_400_and_the_model_keeps_serving(srv):
    wrong_type = infer(srv, "mlp_torch", {"inputs": [json_input("INPUT__0", "FP64", mlp_input(1))]})
    assert wrong_type.status_code == 400
    assert "FP64" in error_message(wrong_type)
    wrong_shape = infer(srv, "mlp_torch", {"inputs": [json_input(
        "INPUT__0", "FP32", np.zeros((1, 8), np.float32))]})
    assert wrong_shape.status_code == 400, wrong_shape.text
    unknown = infer(srv, "mlp_torch", {"inputs": [json_input("x", "FP32", mlp_input(1))]})
    assert unknown.status_code == 400
    assert infer(srv, "mlp_torch",
                 {"inputs": [json_input("INPUT__0", "FP32", mlp_input(1))]}).status_code == 200


def test_bad_input_over_grpc_is_invalid_argument(stub):
    req = make_infer_request("mlp_torch", [("INPUT__0", "FP32", np.zeros((1, 8), np.float32))])
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(req, timeout=TIMEOUT_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_torchscript_model_without_tensors_in_its_config_is_unavailable_with_the_reason(srv):
    index = requests.post(f"{srv.base_url}/v2/repository/index", timeout=10).json()
    entry = next(m for m in index if m["name"] == "torch_no_config")
    assert entry["state"] == "UNAVAILABLE"
    assert "list every input and output" in entry["reason"]


def test_reloading_picks_up_a_new_version(srv, torch_repo):
    x = np.ones((1, 4), np.float32)
    body = {"inputs": [json_input("INPUT__0", "FP32", x)]}
    assert outputs_of(infer(srv, "torch_reload", body))["OUTPUT__0"].tolist() == [2.0] * 4
    subprocess.run([sys.executable, str(MAKE_TORCH_MODELS), "--add-model",
                    str(torch_repo / "torch_reload" / "2" / "model.pt"), "10"], check=True)
    r = requests.post(f"{srv.base_url}/v2/repository/models/torch_reload/load", timeout=60)
    assert r.status_code == 200, r.text
    out = infer(srv, "torch_reload", body)
    assert out.json()["model_version"] == "2"
    assert outputs_of(out)["OUTPUT__0"].tolist() == [11.0] * 4
    shutil.rmtree(torch_repo / "torch_reload" / "2")


def test_statistics_and_metrics_count_torchscript_requests(srv):
    before = stats(srv, "mlp_torch")
    for rows in (1, 2):
        r = infer(srv, "mlp_torch", {"inputs": [json_input("INPUT__0", "FP32", mlp_input(rows))]})
        assert r.status_code == 200
    after = stats(srv, "mlp_torch")
    assert after["inference_stats"]["success"]["count"] - \
        before["inference_stats"]["success"]["count"] == 2
    assert after["inference_count"] - before["inference_count"] == 3
    assert after["inference_stats"]["compute_infer"]["ns"] > before["inference_stats"]["compute_infer"]["ns"]
    metrics = requests.get(f"{srv.base_url}/metrics", timeout=10).text
    line = next(l for l in metrics.splitlines()
                if l.startswith('nv_inference_request_success{model="mlp_torch"'))
    assert float(line.split()[-1]) >= 2
