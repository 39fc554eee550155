"""Remote steps: an ensemble on one inferd (the pre-processing server) whose second step runs on
another inferd (the model server) through a `backend: "remote"` model. Two real servers: the
answer equals the local pipeline's, the model server counts the step, a server that is down is
a 503 naming the step, one that never answers is a 504 within the step's timeout, and the
remote step's latency is in the first server's metrics."""

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


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("model_server")
    write_model(root, "add10", add_model("add10", 10.0), model_config("add10", ["x"], ["y"]))
    srv = start_server(root, tmp_path_factory.mktemp("model_server_log"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def front(model_server, silent_port, tmp_path_factory):
    root = tmp_path_factory.mktemp("front")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    down_port = closed.getsockname()[1]
    closed.close()  # nothing listens there any more
    write_model(root, "add1", add_model("add1", 1.0), model_config("add1", ["x"], ["y"]))
    remotes = {"add10_remote": (model_server.base_url, "2000"),
               "down_remote": (f"http://127.0.0.1:{down_port}", "2000"),
               "slow_remote": (f"http://127.0.0.1:{silent_port}", "300")}
    for name, (url, timeout_ms) in remotes.items():
        (root / name).mkdir()
        (root / name / "config.pbtxt").write_text(remote_config(name, url, "add10", timeout_ms))
        pipeline = {"add10_remote": "split"}.get(name, name.replace("_remote", "_split"))
        (root / pipeline).mkdir()
        (root / pipeline / "config.pbtxt").write_text(ensemble_config(pipeline, ["X"], ["Y"], [
            step("add1", {"x": "X"}, {"y": "A"}), step(name, {"x": "A"}, {"y": "Y"})]))
    srv = start_server(root, tmp_path_factory.mktemp("front_log"))
    yield srv
    stop_server(srv)


def success_count(base_url, model):
    r = requests.get(f"{base_url}/v2/models/{model}/stats", timeout=TIMEOUT_S)
    return r.json()["model_stats"][0]["inference_stats"]["success"]["count"]


def test_a_step_runs_on_the_other_server(front, model_server):
    c = Client(front.base_url)
    before = success_count(model_server.base_url, "add10")
    np.testing.assert_array_equal(http_infer(c, "split")["Y"], X + 11)
    assert success_count(model_server.base_url, "add10") == before + 1


def test_the_remote_pipeline_answers_over_grpc(front):
    ch = grpc.insecure_channel(front.grpc_target)
    stub = stubs().rpc.GRPCInferenceServiceStub(ch)
    resp = stub.ModelInfer(make_infer_request("split", [("X", "FP32", X)]), timeout=TIMEOUT_S)
    np.testing.assert_array_equal(parse_infer_response(resp)["Y"], X + 11)
    ch.close()


def test_a_remote_server_that_is_down_is_a_503_naming_the_step(front):
    r = Client(front.base_url).infer("down_split", {"inputs": [json_input("X", "FP32", X)]})
    assert r.status_code == 503, r.text
    message = error_message(r)
    assert "ensemble 'down_split' step 2 (model 'down_remote')" in message
    assert "failed while connecting" in message


def test_a_remote_server_that_never_answers_is_a_504_within_the_timeout(front):
    start = time.monotonic()
    r = Client(front.base_url).infer("slow_split", {"inputs": [json_input("X", "FP32", X)]})
    elapsed = time.monotonic() - start
    assert r.status_code == 504, r.text
    assert "step 2 (model 'slow_remote')" in error_message(r)
    assert "did not answer within 300 ms" in error_message(r)
    assert elapsed < 2.0


def test_the_remote_steps_latency_is_in_the_metrics(front):
    Client(front.base_url).infer("split", {"inputs": [json_input("X", "FP32", X)]})
    text = requests.get(front.base_url + "/metrics", timeout=TIMEOUT_S).text
    lines = [l for l in text.splitlines()
             if l.startswith("nv_inference_compute_infer_duration_us") and "add10_remote" in l]
    assert lines and float(lines[0].split()[-1]) > 0, lines
