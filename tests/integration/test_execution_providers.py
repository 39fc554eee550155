"""Triton configs with an `optimization` block and GPU instance groups against the real server
and the ONNX Runtime build it links: what this build can run loads and serves; an accelerator
it cannot run fails that model's load with a message naming the provider and the providers the
build lists — never a silent CPU fallback — unless the config asks for one. Also the registry's
answer to a backend this binary does not have."""

import shutil

import numpy as np
import pytest
import requests

from conftest import REPO_ROOT, start_server, stop_server
from kserve_v2 import json_input

SIMPLE = REPO_ROOT / "examples" / "models" / "simple" / "1" / "model.onnx"
HEAD = """max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] },
        { name: "INPUT1" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ]
"""
CONFIGS = {
    # Every ORT session parameter Triton documents, and a graph level.
    "tuned": HEAD + """
optimization { graph { level: 1 } priority: PRIORITY_MAX
               input_pinned_memory { enable: true } }
parameters { key: "intra_op_thread_count" value: { string_value: "1" } }
parameters { key: "inter_op_thread_count" value: { string_value: "1" } }
parameters { key: "execution_mode" value: { string_value: "0" } }
parameters { key: "enable_mem_arena" value: { string_value: "1" } }
parameters { key: "enable_mem_pattern" value: { string_value: "1" } }
parameters { key: "memory.enable_memory_arena_shrinkage" value: { string_value: "cpu:0" } }
""",
    "on_gpu": HEAD + 'backend: "onnxruntime"\ninstance_group [ { kind: KIND_GPU gpus: [ 0 ] } ]\n',
    "tensorrt": HEAD + """instance_group [ { kind: KIND_GPU } ]
optimization { execution_accelerators { gpu_execution_accelerator : [ {
  name : "tensorrt" parameters { key: "precision_mode" value: "FP16" } } ] } }
""",
    "openvino": HEAD + """
optimization { execution_accelerators { cpu_execution_accelerator : [ { name : "openvino" } ] } }
""",
    "gpu_or_cpu": HEAD + """instance_group [ { kind: KIND_GPU } ]
optimization { execution_accelerators {
  gpu_execution_accelerator : [ { name : "tensorrt" } ]
  cpu_execution_accelerator : [ { name : "openvino" } ] } }
parameters { key: "execution_accelerator_fallback" value: { string_value: "cpu" } }
""",
    "unknown_accelerator": HEAD + """
optimization { execution_accelerators { cpu_execution_accelerator : [ { name : "fpga" } ] } }
""",
    "tensorrt_plan": HEAD + 'platform: "tensorrt_plan"\n',
}


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    repo = tmp_path_factory.mktemp("ep_models")
    for name, config in CONFIGS.items():
        (repo / name / "1").mkdir(parents=True)
        shutil.copy(SIMPLE, repo / name / "1" / "model.onnx")
        (repo / name / "config.pbtxt").write_text(config)
    s = start_server(repo, tmp_path_factory.mktemp("ep_log"),
                     ["--model-control-mode", "explicit", "--load-model", "*"])
    yield s
    stop_server(s)


def index(srv):
    return {m["name"]: m for m in requests.post(f"{srv.base_url}/v2/repository/index",
                                                timeout=10).json()}


def serves(srv, model):
    x = np.arange(16, dtype=np.float32).reshape(1, 16)
    r = requests.post(f"{srv.base_url}/v2/models/{model}/infer",
                      json={"inputs": [json_input("INPUT0", "FP32", x),
                                       json_input("INPUT1", "FP32", x)],
                            "outputs": [{"name": "OUTPUT0"}]}, timeout=20)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == (2 * x).flatten().tolist()
    return True


def test_a_config_with_graph_level_and_session_parameters_loads_and_serves(srv):
    assert index(srv)["tuned"]["state"] == "READY", index(srv)["tuned"]
    assert serves(srv, "tuned")


@pytest.mark.parametrize("model,provider", [("on_gpu", "CUDAExecutionProvider"),
                                            ("tensorrt", "TensorrtExecutionProvider"),
                                            ("openvino", "OpenVINOExecutionProvider")])
def test_an_accelerator_the_build_cannot_run_fails_the_load_naming_it(srv, model, provider):
    entry = index(srv)[model]
    if entry["state"] == "READY":
        pytest.skip(f"this machine runs {provider}")
    assert entry["state"] == "UNAVAILABLE"
    assert provider in entry["reason"], entry["reason"]
    assert "CPUExecutionProvider" in entry["reason"], entry["reason"]  # what the build lists
    r = requests.post(f"{srv.base_url}/v2/models/{model}/infer", json={"inputs": []}, timeout=10)
    assert r.status_code in (400, 404, 503), r.text


def test_an_explicit_cpu_fallback_serves_on_the_cpu(srv):
    assert index(srv)["gpu_or_cpu"]["state"] == "READY", index(srv)["gpu_or_cpu"]
    assert serves(srv, "gpu_or_cpu")
    assert "execution_accelerator_fallback cpu: left out" in srv.log_path.read_text()


def test_an_unknown_accelerator_name_is_a_config_error(srv):
    entry = index(srv)["unknown_accelerator"]
    assert entry["state"] == "UNAVAILABLE"
    assert "cpu_execution_accelerator 'fpga' is not known" in entry["reason"]


def test_a_platform_this_binary_lacks_names_the_engines_it_has(srv):
    entry = index(srv)["tensorrt_plan"]
    assert entry["state"] == "UNAVAILABLE"
    assert "platform 'tensorrt_plan' is not supported; this inferd has onnxruntime " \
           "(onnxruntime_onnx)" in entry["reason"], entry["reason"]
