"""Remote steps: an ensemble on one inferd (the pre-processing server) whose second step runs on
another inferd (the model server) through a `backend: "remote"` model, over HTTP or gRPC
(url grpc://). Two real servers: the answer equals the local pipeline's, the model server counts
the step, one trace spans both servers, a server that is down is a 502 naming the step, one that
never answers is a 504 within the step's timeout — or within the request's own deadline, which
the step passes on — and the remote step's latency is in the first server's metrics."""

import json
import socket
import threading
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import Client, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response, stubs
from kserve_v2 import error_message, json_input
from test_ensembles import X, add_model, ensemble_config, http_infer, model_config, step

TIMEOUT_S = 20


def remote_config(name, url, model, timeout_ms):
    params = "".join(f'parameters {{ key: "{k}" value {{ string_value: "{v}" }} }}\n'
                     for k, v in (("url", url), ("model_name", model),
                                  ("timeout_ms", timeout_ms)))
    return model_config(name, ["x"], ["y"]).replace('platform: "onnxruntime_onnx"',
                                                     'backend: "remote"') + params


def write_model(root, name, model, config):
    (root / name / "1").mkdir(parents=True)
    (root / name / "1" / "model.onnx").write_bytes(model.SerializeToString())
    (root / name / "config.pbtxt").write_text(config)


@pytest.fixture(scope="module")
def silent_port():
    """A TCP server that accepts connections and never answers: a remote that hangs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def start_traced(root, log_dir):
    """A server that traces requests that come with a sampled traceparent, into a file."""
    srv = start_server(root, log_dir,
                       ["--trace-file", str(log_dir / "traces.jsonl"), "--trace-rate", "0"])
    srv.trace_file = log_dir / "traces.jsonl"
    return srv


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("model_server")
    write_model(root, "add10", add_model("add10", 10.0), model_config("add10", ["x"], ["y"]))
    srv = start_traced(root, tmp_path_factory.mktemp("model_server_log"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def brief_server(tmp_path_factory):
    """A model server that closes idle keep-alive connections after one second."""
    root = tmp_path_factory.mktemp("brief_server")
    write_model(root, "add10", add_model("add10", 10.0), model_config("add10", ["x"], ["y"]))
    srv = start_server(root, tmp_path_factory.mktemp("brief_server_log"),
                       ["--http-idle-timeout-secs", "1"])
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def front(model_server, brief_server, silent_port, tmp_path_factory):
    root = tmp_path_factory.mktemp("front")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    down_port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more
    write_model(root, "add1", add_model("add1", 1.0), model_config("add1", ["x"], ["y"]))
    # remote model -> (url, timeout_ms); each runs as step 2 of the ensemble <prefix>_split.
    remotes = {"add10_remote": (model_server.base_url, "2000"),
               "grpc_remote": (f"grpc://{model_server.grpc_target}", "2000"),
               "down_remote": (f"http://127.0.0.1:{down_port}", "2000"),
               "downgrpc_remote": (f"grpc://127.0.0.1:{down_port}", "2000"),
               "slow_remote": (f"http://127.0.0.1:{silent_port}", "300"),
               "slowgrpc_remote": (f"grpc://127.0.0.1:{silent_port}", "300"),
               "hang_remote": (f"http://127.0.0.1:{silent_port}", "10000"),
               "brief_remote": (brief_server.base_url, "2000")}
    for name, (url, timeout_ms) in remotes.items():
        (root / name).mkdir()
        (root / name / "config.pbtxt").write_text(remote_config(name, url, "add10", timeout_ms))
        pipeline = {"add10_remote": "split"}.get(name, name.replace("_remote", "_split"))
        (root / pipeline).mkdir()
        (root / pipeline / "config.pbtxt").write_text(ensemble_config(pipeline, ["X"], ["Y"], [
            step("add1", {"x": "X"}, {"y": "A"}), step(name, {"x": "A"}, {"y": "Y"})]))
    srv = start_traced(root, tmp_path_factory.mktemp("front_log"))
    yield srv
    stop_server(srv)


def stats_count(base_url, model, kind="success"):
    r = requests.get(f"{base_url}/v2/models/{model}/stats", timeout=TIMEOUT_S)
    return r.json()["model_stats"][0]["inference_stats"][kind]["count"]


def success_count(base_url, model):
    return stats_count(base_url, model)


def grpc_infer(target, model, timeout=TIMEOUT_S, metadata=None):
    ch = grpc.insecure_channel(target)
    try:
        stub = stubs().rpc.GRPCInferenceServiceStub(ch)
        return stub.ModelInfer(make_infer_request(model, [("X", "FP32", X)]), timeout=timeout,
                               metadata=metadata)
    finally:
        ch.close()


def root_spans(trace_file, trace_id, timeout=5):
    """The SERVER spans of `trace_id` in a trace file, waiting for the exporter to write them."""
    deadline = time.monotonic() + timeout
    while True:
        spans = []
        if trace_file.exists():
            for line in trace_file.read_text().splitlines():
                for rs in json.loads(line)["resourceSpans"]:
                    for ss in rs["scopeSpans"]:
                        spans += [s for s in ss["spans"]
                                  if s["traceId"] == trace_id and s["kind"] == 2]
        if spans or time.monotonic() > deadline:
            return spans
        time.sleep(0.05)


def test_a_step_runs_on_the_other_server(front, model_server):
    c = Client(front.base_url)
    before = success_count(model_server.base_url, "add10")
    np.testing.assert_array_equal(http_infer(c, "split")["Y"], X + 11)
    assert success_count(model_server.base_url, "add10") == before + 1


def http_connections(base_url):
    text = requests.get(base_url + "/metrics", timeout=TIMEOUT_S).text
    return float(next(l.split()[-1] for l in text.splitlines()
                      if l.startswith('inferd_connections_total{frontend="http"')))


def test_an_http_remote_step_keeps_its_connection(front, model_server):
    c = Client(front.base_url)
    config = requests.get(front.base_url + "/v2/models/add10_remote/config", timeout=TIMEOUT_S)
    instances = sum(g.get("count", 1) for g in config.json().get("instance_group", [])) or 1
    http_infer(c, "split")  # an instance of the remote model has its connection open
    before = http_connections(model_server.base_url)
    for _ in range(10):
        np.testing.assert_array_equal(http_infer(c, "split")["Y"], X + 11)
    # Beside this test's /metrics request, at most one new connection per other instance.
    assert http_connections(model_server.base_url) <= before + instances


def test_a_connection_the_remote_closed_while_idle_is_replaced(front, brief_server):
    c = Client(front.base_url)
    np.testing.assert_array_equal(http_infer(c, "brief_split")["Y"], X + 11)
    time.sleep(1.5)  # brief_server closes the idle connection
    np.testing.assert_array_equal(http_infer(c, "brief_split")["Y"], X + 11)


def test_the_remote_pipeline_answers_over_grpc(front):
    resp = grpc_infer(front.grpc_target, "split")
    np.testing.assert_array_equal(parse_infer_response(resp)["Y"], X + 11)


def test_a_step_runs_on_the_other_server_over_grpc(front, model_server):
    before = success_count(model_server.base_url, "add10")
    np.testing.assert_array_equal(http_infer(Client(front.base_url), "grpc_split")["Y"], X + 11)
    resp = grpc_infer(front.grpc_target, "grpc_split")
    np.testing.assert_array_equal(parse_infer_response(resp)["Y"], X + 11)
    assert success_count(model_server.base_url, "add10") == before + 2


@pytest.mark.parametrize("pipeline", ["split", "grpc_split"])
def test_one_trace_spans_both_servers(front, model_server, pipeline):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e47" + ("01" if pipeline == "split" else "02")
    parent = "00f067aa0ba902b7"
    r = Client(front.base_url).infer(pipeline, {"inputs": [json_input("X", "FP32", X)]},
                                     headers={"traceparent": f"00-{trace_id}-{parent}-01"})
    assert r.status_code == 200, r.text
    front_span = r.headers["traceparent"].split("-")[2]
    [front_root] = root_spans(front.trace_file, trace_id)
    assert front_root["spanId"] == front_span and front_root["parentSpanId"] == parent
    # The model server's request is a child of the front's: same trace, the front's span as
    # its parent.
    [model_root] = root_spans(model_server.trace_file, trace_id)
    assert model_root["parentSpanId"] == front_span
    attributes = {a["key"]: a["value"]["stringValue"] for a in model_root["attributes"]}
    assert attributes["inferd.model"] == "add10"


def test_a_grpc_callers_trace_reaches_the_model_server(front, model_server):
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4703"
    grpc_infer(front.grpc_target, "split",
               metadata=[("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")])
    [front_root] = root_spans(front.trace_file, trace_id)
    [model_root] = root_spans(model_server.trace_file, trace_id)
    assert model_root["parentSpanId"] == front_root["spanId"]


@pytest.mark.parametrize("pipeline", ["down_split", "downgrpc_split"])
def test_a_remote_server_that_is_down_is_a_502_naming_the_step(front, pipeline):
    r = Client(front.base_url).infer(pipeline, {"inputs": [json_input("X", "FP32", X)]})
    assert r.status_code == 502, r.text
    message = error_message(r)
    remote = pipeline.replace("_split", "_remote")
    assert f"ensemble '{pipeline}' step 2 (model '{remote}')" in message
    assert "failed while connecting" in message
    with pytest.raises(grpc.RpcError) as e:
        grpc_infer(front.grpc_target, pipeline)
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    assert f"step 2 (model '{remote}')" in e.value.details()


@pytest.mark.parametrize("pipeline", ["slow_split", "slowgrpc_split"])
def test_a_remote_server_that_never_answers_is_a_504_within_the_timeout(front, pipeline):
    start = time.monotonic()
    r = Client(front.base_url).infer(pipeline, {"inputs": [json_input("X", "FP32", X)]})
    elapsed = time.monotonic() - start
    assert r.status_code == 504, r.text
    assert f"step 2 (model '{pipeline.replace('_split', '_remote')}')" in error_message(r)
    assert "did not answer within 300 ms" in error_message(r)
    assert elapsed < 2.0


def test_the_requests_timeout_bounds_a_remote_step(front):
    # The step allows 10 s; the request's `timeout` parameter (microseconds) allows 300 ms.
    start = time.monotonic()
    r = Client(front.base_url).infer("hang_split", {
        "inputs": [json_input("X", "FP32", X)], "parameters": {"timeout": 300000}})
    elapsed = time.monotonic() - start
    assert r.status_code == 504, r.text
    assert "step 2 (model 'hang_remote')" in error_message(r)
    assert "did not answer within" in error_message(r)
    assert elapsed < 2.0


def test_a_grpc_deadline_bounds_a_remote_step(front):
    # The client gives up after 300 ms; the server's remote step must stop then too, not
    # after the step's 10 s (its failure is counted well before).
    before = stats_count(front.base_url, "hang_split", "fail")
    with pytest.raises(grpc.RpcError) as e:
        grpc_infer(front.grpc_target, "hang_split", timeout=0.3)
    assert e.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 2.0
    while stats_count(front.base_url, "hang_split", "fail") == before:
        assert time.monotonic() < deadline, "the remote step outlived the caller's deadline"
        time.sleep(0.05)


def test_the_remote_steps_latency_is_in_the_metrics(front):
    Client(front.base_url).infer("split", {"inputs": [json_input("X", "FP32", X)]})
    text = requests.get(front.base_url + "/metrics", timeout=TIMEOUT_S).text
    lines = [l for l in text.splitlines()
             if l.startswith("nv_inference_compute_infer_duration_us") and "add10_remote" in l]
    assert lines and float(lines[0].split()[-1]) > 0, lines
