"""One request-handling layer under both transports (src/handler): each behaviour the handler
owns — credentials, tracing, the access log, cancellation of queued work when the client goes
away — checked over HTTP and over gRPC against the same server, so the two cannot drift apart.
(Rate limits over both: test_limits.py; TLS close_notify: test_tls.py.)"""

import json
import shutil
import socket
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import _free_port, start_server, stop_server
from grpc_client import make_infer_request, stubs
from test_tracing import read_trace_file, spans_in, wait_for

TIMEOUT_S = 20
TOKEN = "tok-5e1d0c9a"
TRACE_ID = "5cf92f3577b34da6a3ce929d0e0e4799"
PARENT = "00f067aa0ba902b7"
TRANSPORTS = ["http", "grpc"]


@pytest.fixture(scope="module")
def hsrv(model_repo, tmp_path_factory):
    repo = tmp_path_factory.mktemp("matrix_models")
    for name in ("simple", "batch_timeout"):
        shutil.copytree(model_repo / name, repo / name)
    log_dir = tmp_path_factory.mktemp("matrix_log")
    token_file = log_dir / "tokens"
    token_file.write_text(f"{TOKEN} admin\n")
    trace_file = log_dir / "traces.jsonl"
    grpc_port = _free_port()
    srv = start_server(repo, log_dir,
                       ["--grpc-port", str(grpc_port), "--auth-token-file", str(token_file),
                        "--trace-file", str(trace_file), "--trace-rate", "0",
                        "--log-format", "json", "--access-log"])
    srv.grpc_target = f"127.0.0.1:{grpc_port}"
    srv.trace_file = trace_file
    yield srv
    stop_server(srv)


def http_infer(srv, model, body, headers=None, token=TOKEN):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    h.update(headers or {})
    return requests.post(f"{srv.base_url}/v2/models/{model}/infer", json=body, headers=h,
                         timeout=TIMEOUT_S)


def simple_http_body():
    data = list(range(16))
    return {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16], "data": data},
                       {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": data}]}


def simple_grpc_request():
    x = np.arange(16, dtype=np.float32).reshape(1, 16)
    return make_infer_request("simple", [("INPUT0", "FP32", x), ("INPUT1", "FP32", x)])


def metadata(token=TOKEN, extra=()):
    md = [("authorization", f"Bearer {token}")] if token else []
    return md + list(extra)


def stats(srv, model):
    r = requests.get(f"{srv.base_url}/v2/models/{model}/stats",
                     headers={"Authorization": f"Bearer {TOKEN}"}, timeout=TIMEOUT_S)
    assert r.status_code == 200, r.text
    s = r.json()["model_stats"][0]
    return s["inference_stats"]["fail"]["count"], s["execution_count"]


def access_lines(srv, protocol):
    lines = []
    for line in srv.log_path.read_text(errors="replace").splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("type") == "access" and doc.get("protocol") == protocol:
            lines.append(doc)
    return lines


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_call_without_credentials_is_refused_and_with_them_served(hsrv, transport):
    if transport == "http":
        assert http_infer(hsrv, "simple", simple_http_body(), token=None).status_code == 401
        assert http_infer(hsrv, "simple", simple_http_body(), token="nope").status_code == 401
        assert http_infer(hsrv, "simple", simple_http_body()).status_code == 200
        return
    with grpc.insecure_channel(hsrv.grpc_target) as ch:
        stub = stubs().rpc.GRPCInferenceServiceStub(ch)
        for token in (None, "nope"):
            with pytest.raises(grpc.RpcError) as info:
                stub.ModelInfer(simple_grpc_request(), metadata=metadata(token),
                                timeout=TIMEOUT_S)
            assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        stub.ModelInfer(simple_grpc_request(), metadata=metadata(), timeout=TIMEOUT_S)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_sampled_traceparent_is_continued_and_exported(hsrv, transport):
    trace_id = TRACE_ID[:-1] + ("1" if transport == "http" else "2")
    parent = f"00-{trace_id}-{PARENT}-01"
    if transport == "http":
        r = http_infer(hsrv, "simple", simple_http_body(), headers={"traceparent": parent})
        assert r.status_code == 200
        answered = r.headers["traceparent"]
        root_name = "POST /v2/models/simple/infer"
    else:
        with grpc.insecure_channel(hsrv.grpc_target) as ch:
            stub = stubs().rpc.GRPCInferenceServiceStub(ch)
            _, call = stub.ModelInfer.with_call(
                simple_grpc_request(), metadata=metadata(extra=[("traceparent", parent)]),
                timeout=TIMEOUT_S)
            answered = dict(call.trailing_metadata())["traceparent"]
        root_name = "POST /inference.GRPCInferenceService/ModelInfer"
    _, answered_trace, span_id, flags = answered.split("-")
    assert (answered_trace, flags) == (trace_id, "01")
    spans = wait_for(lambda: [s for s in spans_in(read_trace_file(hsrv.trace_file))
                              if s["traceId"] == trace_id])
    by_name = {s["name"]: s for s in spans}
    root = by_name[root_name]
    assert root["spanId"] == span_id
    assert root["parentSpanId"] == PARENT
    for stage in ("decode", "queue", "compute", "encode"):
        assert by_name[stage]["parentSpanId"] == span_id


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_call_gets_an_access_line_with_its_stages(hsrv, transport):
    before = len(access_lines(hsrv, transport))
    if transport == "http":
        assert http_infer(hsrv, "simple", simple_http_body()).status_code == 200
        path, ok_status = "/v2/models/simple/infer", 200
    else:
        with grpc.insecure_channel(hsrv.grpc_target) as ch:
            stubs().rpc.GRPCInferenceServiceStub(ch).ModelInfer(
                simple_grpc_request(), metadata=metadata(), timeout=TIMEOUT_S)
        path, ok_status = "/inference.GRPCInferenceService/ModelInfer", 0
    lines = wait_for(lambda: [l for l in access_lines(hsrv, transport)[before:]
                              if l["path"] == path])
    line = lines[-1]
    assert line["status"] == ok_status
    assert line["model"] == "simple" and line["version"] == 1
    for stage in ("decode_us", "queue_us", "compute_us", "encode_us"):
        assert line[stage] >= 0
    assert line["bytes_in"] > 0 and line["bytes_out"] > 0
    assert TOKEN not in hsrv.log_path.read_text(errors="replace")


def batch_timeout_http_request():
    body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 4],
                                   "data": [1.0] * 4}]}).encode()
    return (b"POST /v2/models/batch_timeout/infer HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n\r\n" + body)


def batch_timeout_grpc_request():
    return make_infer_request("batch_timeout", [("INPUT0", "FP32", np.ones((1, 4), np.float32))])


@pytest.mark.parametrize("transport", ["http", "grpc", "grpc-stream"])
def test_a_client_gone_while_its_request_is_queued_cancels_it(hsrv, transport):
    fails, executions = stats(hsrv, "batch_timeout")
    host, port = hsrv.base_url.removeprefix("http://").split(":")
    if transport == "http":
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(batch_timeout_http_request())
            time.sleep(0.05)  # queued behind the model's 400 ms batching delay
    elif transport == "grpc":
        with grpc.insecure_channel(hsrv.grpc_target) as ch:
            stub = stubs().rpc.GRPCInferenceServiceStub(ch)
            future = stub.ModelInfer.future(batch_timeout_grpc_request(), metadata=metadata(),
                                            timeout=TIMEOUT_S)
            time.sleep(0.05)
            assert future.cancel()
    else:
        with grpc.insecure_channel(hsrv.grpc_target) as ch:
            stub = stubs().rpc.GRPCInferenceServiceStub(ch)
            responses = stub.ModelStreamInfer(iter([batch_timeout_grpc_request()]),
                                              metadata=metadata(), timeout=TIMEOUT_S)
            time.sleep(0.1)
            responses.cancel()
    # Dropped when its batch would have formed: counted failed, never executed.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and stats(hsrv, "batch_timeout")[0] == fails:
        time.sleep(0.05)
    assert stats(hsrv, "batch_timeout") == (fails + 1, executions)
