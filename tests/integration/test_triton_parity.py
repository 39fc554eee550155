"""Triton's conventions that inferd follows (issue #18), over HTTP and gRPC against one real
server on the models of scripts/make_parity_models.py: the explicit-mode repository index lists
every model on disk, zero-sized dims auto-complete, models without inputs, the extension list,
`reshape` (a densenet_onnx-shaped model), engine shape errors as 400 / INVALID_ARGUMENT, the
trace settings API, `/v2/logging` log_file, and the gRPC connection gauge."""

import json
import re
import subprocess
import sys
import time

import grpc
import numpy as np
import pytest

from conftest import REPO_ROOT, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response, stubs

TIMEOUT_S = 20
MAKE_PARITY_MODELS = REPO_ROOT / "scripts" / "make_parity_models.py"
LOADED = ["densenet_like", "reduce_empty_axes", "constant", "add_any", "identity_fp32"]


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    repo = tmp_path_factory.mktemp("parity_models")
    subprocess.run([sys.executable, str(MAKE_PARITY_MODELS), str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    # A model folder that explicit mode never loads.
    (repo / "never_loaded").mkdir()
    (repo / "never_loaded" / "1").mkdir()
    (repo / "never_loaded" / "1" / "model.onnx").write_bytes(
        (repo / "constant" / "1" / "model.onnx").read_bytes())
    logs = tmp_path_factory.mktemp("parity_log")
    args = ["--model-control-mode", "explicit", "--trace-file", str(logs / "traces.jsonl"),
            "--trace-rate", "1"]
    for name in LOADED:
        args += ["--load-model", name]
    s = start_server(repo, logs, args)
    s.trace_file = logs / "traces.jsonl"
    s.logs = logs
    yield s
    stop_server(s)


def grpc_error(fn, request):
    with pytest.raises(grpc.RpcError) as info:
        fn(request, timeout=TIMEOUT_S)
    return info.value


# 1. The repository index -------------------------------------------------------------------

def test_explicit_mode_index_lists_models_never_loaded_without_a_state(http, stub):
    index = {e["name"]: e for e in http.post("/v2/repository/index").json()}
    assert index["never_loaded"]["state"] == ""
    assert "version" not in index["never_loaded"]
    assert index["constant"]["state"] == "READY"
    models = stub.RepositoryIndex(stubs().pb.RepositoryIndexRequest(), timeout=TIMEOUT_S).models
    by_name = {m.name: m for m in models}
    assert by_name["never_loaded"].state == "" and by_name["never_loaded"].version == ""
    assert sorted(by_name) == sorted(index)


def test_ready_only_index_leaves_out_models_never_loaded(http):
    names = [e["name"] for e in http.post("/v2/repository/index", json={"ready": True}).json()]
    assert "never_loaded" not in names and "constant" in names


# 2. Zero-sized dims ------------------------------------------------------------------------

def test_a_zero_sized_input_auto_completes_and_serves(http, stub):
    config = http.get("/v2/models/reduce_empty_axes/config").json()
    axes = [i for i in config["input"] if i["name"] == "axes"][0]
    assert [int(d) for d in axes["dims"]] == [0]
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    body = {"inputs": [
        {"name": "data", "datatype": "FP32", "shape": [2, 3], "data": data.flatten().tolist()},
        {"name": "axes", "datatype": "INT64", "shape": [0], "data": []}]}
    r = http.infer("reduce_empty_axes", body)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == [15.0]
    req = make_infer_request("reduce_empty_axes", [("data", "FP32", data),
                                                   ("axes", "INT64", np.zeros(0, np.int64))])
    out = parse_infer_response(stub.ModelInfer(req, timeout=TIMEOUT_S))
    assert out["sum"].tolist() == [[15.0]]


# 3. No inputs --------------------------------------------------------------------------------

def test_a_model_without_inputs_is_callable(http, stub):
    r = http.infer("constant", {"inputs": []})
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == [1.0, 2.0, 3.0]
    out = parse_infer_response(stub.ModelInfer(make_infer_request("constant", []),
                                               timeout=TIMEOUT_S))
    assert out["OUT"].tolist() == [1.0, 2.0, 3.0]


def test_a_model_with_inputs_still_needs_them(http):
    r = http.infer("identity_fp32", {"inputs": []})
    assert r.status_code == 400
    assert "missing input 'INPUT0'" in r.json()["error"]


# 4. Extensions -------------------------------------------------------------------------------

EXTENSIONS = {"classification", "model_repository", "schedule_policy", "model_configuration",
              "system_shared_memory", "binary_tensor_data", "statistics", "trace", "logging"}


def test_server_metadata_lists_every_implemented_extension(http, stub):
    extensions = set(http.get("/v2").json()["extensions"])
    assert EXTENSIONS <= extensions
    grpc_meta = stub.ServerMetadata(stubs().pb.ServerMetadataRequest(), timeout=TIMEOUT_S)
    assert set(grpc_meta.extensions) == extensions


# 5. reshape ----------------------------------------------------------------------------------

def densenet_reference(x):
    w = np.random.RandomState(18).standard_normal((10, 3, 1, 1)).astype(np.float32)
    pooled = x.reshape(3, -1).mean(axis=1)
    return (w.reshape(10, 3) @ pooled).astype(np.float32)


def test_reshape_is_applied_to_inputs_and_outputs(http, stub):
    meta = http.get("/v2/models/densenet_like").json()
    assert meta["inputs"][0]["shape"] == [3, 8, 8]
    assert meta["outputs"][0]["shape"] == [10]
    x = np.random.RandomState(1).standard_normal((3, 8, 8)).astype(np.float32)
    body = {"inputs": [{"name": "data_0", "datatype": "FP32", "shape": [3, 8, 8],
                        "data": x.flatten().tolist()}]}
    r = http.infer("densenet_like", body)
    assert r.status_code == 200, r.text
    out = r.json()["outputs"][0]
    assert out["shape"] == [10]
    np.testing.assert_allclose(out["data"], densenet_reference(x), rtol=1e-4, atol=1e-5)
    got = parse_infer_response(stub.ModelInfer(
        make_infer_request("densenet_like", [("data_0", "FP32", x)]), timeout=TIMEOUT_S))
    assert list(got["fc6_1"].shape) == [10]
    np.testing.assert_allclose(got["fc6_1"], densenet_reference(x), rtol=1e-4, atol=1e-5)


def test_the_model_shape_itself_is_refused_by_the_validator(http):
    x = np.zeros((1, 3, 8, 8), np.float32)
    body = {"inputs": [{"name": "data_0", "datatype": "FP32", "shape": [1, 3, 8, 8],
                        "data": x.flatten().tolist()}]}
    r = http.infer("densenet_like", body)
    assert r.status_code == 400 and "expects [3,8,8]" in r.json()["error"]


def test_an_engine_error_caused_by_the_request_shape_is_a_client_error(http, stub):
    body = {"inputs": [{"name": "A", "datatype": "FP32", "shape": [3], "data": [1, 2, 3]},
                       {"name": "B", "datatype": "FP32", "shape": [4], "data": [1, 2, 3, 4]}]}
    r = http.infer("add_any", body)
    assert r.status_code == 400, r.text
    assert "onnxruntime" in r.json()["error"]
    req = make_infer_request("add_any", [("A", "FP32", np.ones(3, np.float32)),
                                         ("B", "FP32", np.ones(4, np.float32))])
    assert grpc_error(stub.ModelInfer, req).code() == grpc.StatusCode.INVALID_ARGUMENT
    ok = http.infer("add_any", {"inputs": [
        {"name": "A", "datatype": "FP32", "shape": [2], "data": [1, 2]},
        {"name": "B", "datatype": "FP32", "shape": [2], "data": [3, 4]}]})
    assert ok.status_code == 200 and ok.json()["outputs"][0]["data"] == [4.0, 6.0]


# 6. Trace settings and the log file ---------------------------------------------------------

def traced_models(path):
    if not path.exists():
        return []
    models = []
    for line in path.read_text().splitlines():
        for rs in json.loads(line)["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    for attr in span.get("attributes", []):
                        if attr["key"] in ("model", "inferd.model", "model.name"):
                            models.append(attr["value"].get("stringValue"))
    return models


def wait_for(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_trace_settings_read_as_triton_writes_them(http, stub, srv):
    s = http.get("/v2/trace/setting").json()
    assert s["trace_level"] == ["TIMESTAMPS"]
    assert s["trace_rate"] == "1" and s["trace_count"] == "-1"
    assert s["trace_file"] == str(srv.trace_file)
    g = stub.TraceSetting(stubs().pb.TraceSettingRequest(), timeout=TIMEOUT_S)
    assert {k: list(v.value) for k, v in g.settings.items()} == {
        k: v if isinstance(v, list) else [v] for k, v in s.items()}


def test_a_model_trace_setting_overrides_the_global_one_and_clears(http, srv):
    constant = "/v2/models/constant/trace/setting"
    time.sleep(0.5)  # earlier tests' traces are written (at most 200 ms late)
    r = http.post(constant, json={"trace_level": ["OFF"]})
    assert r.status_code == 200, r.text
    assert r.json()["trace_level"] == ["OFF"]
    assert http.get("/v2/trace/setting").json()["trace_level"] == ["TIMESTAMPS"]
    before = traced_models(srv.trace_file).count("constant")
    for _ in range(3):
        assert http.infer("constant", {"inputs": []}).status_code == 200
    assert http.infer("identity_fp32", {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [1], "data": [1]}]}).status_code == 200
    assert wait_for(lambda: "identity_fp32" in traced_models(srv.trace_file))
    assert traced_models(srv.trace_file).count("constant") == before
    r = http.post(constant, json={"trace_level": None})
    assert r.json()["trace_level"] == ["TIMESTAMPS"]
    assert http.infer("constant", {"inputs": []}).status_code == 200
    assert wait_for(lambda: traced_models(srv.trace_file).count("constant") > before)


def test_trace_count_stops_tracing_after_that_many(http, srv):
    path = "/v2/models/add_any/trace/setting"
    time.sleep(0.5)  # earlier tests' traces are written (at most 200 ms late)
    before = traced_models(srv.trace_file).count("add_any")
    assert http.post(path, json={"trace_count": "2"}).status_code == 200
    body = {"inputs": [{"name": "A", "datatype": "FP32", "shape": [1], "data": [1]},
                       {"name": "B", "datatype": "FP32", "shape": [1], "data": [1]}]}
    for _ in range(5):
        assert http.infer("add_any", body).status_code == 200
    assert http.get(path).json()["trace_count"] == "0"
    time.sleep(0.5)
    assert traced_models(srv.trace_file).count("add_any") == before + 2
    assert http.post(path, json={"trace_count": None}).json()["trace_count"] == "-1"


def test_grpc_trace_setting_updates_the_settings_http_reads(http, stub):
    pb = stubs().pb
    req = pb.TraceSettingRequest(model_name="identity_fp32")
    req.settings["trace_rate"].value.append("7")
    got = stub.TraceSetting(req, timeout=TIMEOUT_S)
    assert list(got.settings["trace_rate"].value) == ["7"]
    assert http.get("/v2/models/identity_fp32/trace/setting").json()["trace_rate"] == "7"
    clear = pb.TraceSettingRequest(model_name="identity_fp32")
    clear.settings["trace_rate"].SetInParent()  # no values: clear
    got = stub.TraceSetting(clear, timeout=TIMEOUT_S)
    assert list(got.settings["trace_rate"].value) == ["1"]


@pytest.mark.parametrize("body, field", [
    ({"trace_rate": "often"}, "trace_rate"),
    ({"trace_level": ["LOUD"]}, "trace_level"),
    ({"trace_count": "-2"}, "trace_count"),
    ({"trace_file": "/tmp/elsewhere"}, "trace_file"),
    ({"sampling": "1"}, "sampling"),
])
def test_bad_trace_settings_are_refused_naming_the_setting(http, stub, body, field):
    r = http.post("/v2/trace/setting", json=body)
    assert r.status_code == 400 and field in r.json()["error"]
    req = stubs().pb.TraceSettingRequest()
    for key, value in body.items():
        req.settings[key].value.extend(value if isinstance(value, list) else [value])
    err = grpc_error(stub.TraceSetting, req)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and field in err.details()


def test_trace_settings_of_an_unknown_model_are_not_found(http, stub):
    assert http.get("/v2/models/nope/trace/setting").status_code == 404
    err = grpc_error(stub.TraceSetting, stubs().pb.TraceSettingRequest(model_name="nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_log_file_moves_the_log_to_that_file_and_back(http, srv):
    log_file = srv.logs / "moved.log"
    r = http.post("/v2/logging", json={"log_file": str(log_file), "access_log": True})
    assert r.status_code == 200, r.text
    assert r.json()["log_file"] == str(log_file)
    assert http.get("/v2/health/live").status_code == 200
    assert wait_for(lambda: log_file.exists() and "/v2/health/live" in log_file.read_text())
    r = http.post("/v2/logging", json={"log_file": "", "access_log": False})
    assert r.status_code == 200 and r.json()["log_file"] == ""
    size = log_file.stat().st_size
    assert http.get("/v2/health/live").status_code == 200
    time.sleep(0.2)
    assert log_file.stat().st_size == size


def test_an_unwritable_log_file_is_refused(http):
    r = http.post("/v2/logging", json={"log_file": "/proc/nonexistent/dir/x.log"})
    assert r.status_code == 400 and "log_file" in r.json()["error"]
    assert http.get("/v2/logging").json()["log_file"] == ""


# 7. The gRPC connection gauge ----------------------------------------------------------------

def grpc_gauge(http):
    text = http.get("/metrics").text
    m = re.search(r'^inferd_open_connections\{frontend="grpc"\} (\d+)', text, re.M)
    assert m, text
    return int(m.group(1))


def test_the_grpc_connection_gauge_counts_live_connections(srv, http, stub):
    base = grpc_gauge(http)
    assert base >= 1  # the module's own channel
    extra = [grpc.insecure_channel(srv.grpc_target,
                                   options=[("grpc.use_local_subchannel_pool", 1)])
             for _ in range(3)]
    for ch in extra:
        grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
    assert wait_for(lambda: grpc_gauge(http) == base + 3)
    for ch in extra:
        ch.close()
    assert wait_for(lambda: grpc_gauge(http) == base, timeout=10)
