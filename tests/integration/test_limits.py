"""Input and connection limits (docs/security.md): request size limits answered in the
protocol's format, --max-connections, slow clients (slowloris) timed out, and the per-client
rate limit (HTTP 429 + Retry-After, gRPC RESOURCE_EXHAUSTED). The server keeps serving."""

import socket
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import _free_port, start_server, stop_server
from grpc_client import make_infer_request, stubs

TIMEOUT_S = 20


def simple_body(n=16, inputs=("INPUT0", "INPUT1")):
    return {"inputs": [{"name": name, "datatype": "FP32", "shape": [1, n], "data": [1.0] * n}
                       for name in inputs]}


def text_body(*strings):
    return {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1, len(strings)],
                        "data": list(strings)}]}


@pytest.fixture(scope="module")
def limited(model_repo, tmp_path_factory):
    grpc_port = _free_port()
    srv = start_server(model_repo, tmp_path_factory.mktemp("log_limits"),
                       ["--grpc-port", str(grpc_port), "--max-request-inputs", "2",
                        "--max-request-elements", "40", "--max-bytes-element-bytes", "8",
                        "--max-connections", "4", "--http-header-timeout-secs", "1"])
    srv.grpc_target = f"127.0.0.1:{grpc_port}"
    yield srv
    stop_server(srv)


def infer(srv, model, body):
    return requests.post(f"{srv.base_url}/v2/models/{model}/infer", json=body, timeout=TIMEOUT_S)


def test_requests_within_the_limits_are_served(limited):
    assert infer(limited, "simple", simple_body()).status_code == 200
    r = infer(limited, "text_upper", text_body("hello", "world"))
    assert r.status_code == 200, r.text


def test_too_many_inputs_is_413_with_a_json_error(limited):
    r = infer(limited, "simple", simple_body(inputs=("INPUT0", "INPUT1", "INPUT2")))
    assert r.status_code == 413
    assert "3 inputs" in r.json()["error"]


def test_too_many_elements_is_413(limited):
    r = infer(limited, "simple", simple_body(n=32))
    assert r.status_code == 413
    assert "elements" in r.json()["error"]


def test_a_long_bytes_element_is_413(limited):
    r = infer(limited, "text_upper", text_body("short", "much-too-long"))
    assert r.status_code == 413
    assert "BYTES element of 13 bytes" in r.json()["error"]


def test_grpc_limits_are_resource_exhausted(limited):
    with grpc.insecure_channel(limited.grpc_target) as ch:
        stub = stubs().rpc.GRPCInferenceServiceStub(ch)
        big = np.ones((1, 32), np.float32)
        req = make_infer_request("simple", [("INPUT0", "FP32", big), ("INPUT1", "FP32", big)])
        with pytest.raises(grpc.RpcError) as info:
            stub.ModelInfer(req, timeout=TIMEOUT_S)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        ok = np.ones((1, 16), np.float32)
        stub.ModelInfer(make_infer_request("simple", [("INPUT0", "FP32", ok),
                                                      ("INPUT1", "FP32", ok)]),
                        timeout=TIMEOUT_S)


def wait_until(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def open_http_connections(srv):
    """The server's own gauge of open HTTP connections (this scrape's included)."""
    # Connection: close, so the scrape's own connection does not outlive it.
    text = requests.get(srv.base_url + "/metrics", headers={"Connection": "close"},
                        timeout=TIMEOUT_S).text
    for line in text.splitlines():
        if line.startswith('inferd_open_connections{frontend="http"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    raise AssertionError("no inferd_open_connections gauge for http")


def wait_for_idle_connections(srv):
    """Connections that earlier tests closed are closed on the server too (asynchronously, and
    slowly under a sanitizer): wait until only the scrape itself is open, so a test that fills
    the connection cap starts from an empty server."""
    assert wait_until(lambda: open_http_connections(srv) <= 1, timeout=10)
    time.sleep(0.2)  # the last scrape's connection closes after its answer


def test_connections_over_the_cap_get_503_and_the_server_recovers(limited):
    wait_for_idle_connections(limited)
    port = int(limited.base_url.rsplit(":", 1)[1])
    held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(4)]
    try:
        # Each held connection sends the start of a request, so it is counted and kept.
        time.sleep(0.2)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            answer = extra.recv(4096)
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert b"too many connections" in answer
    finally:
        for s in held:
            s.close()
    assert wait_until(lambda: infer(limited, "simple", simple_body()).status_code == 200)


def test_slowloris_clients_are_timed_out_and_do_not_starve_others(limited):
    wait_for_idle_connections(limited)
    port = int(limited.base_url.rsplit(":", 1)[1])
    slow = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\n")  # never finished
        slow.append(s)
    try:
        start = time.monotonic()
        for s in slow:
            s.sendall(b"X-Slow: 1\r\n")  # trickle: still within the header
        # The header timeout (1 s) closes every slow connection...
        for s in slow:
            s.settimeout(5)
            assert s.recv(4096) == b""
        assert time.monotonic() - start < 4
        # ...so a normal client gets through.
        assert infer(limited, "simple", simple_body()).status_code == 200
    finally:
        for s in slow:
            s.close()


def test_an_idle_keep_alive_connection_is_not_cut_by_the_header_timeout(limited):
    with requests.Session() as s:
        url = f"{limited.base_url}/v2/models/simple/infer"
        assert s.post(url, json=simple_body(), timeout=TIMEOUT_S).status_code == 200
        time.sleep(1.5)  # longer than the header timeout, shorter than the idle timeout
        assert s.post(url, json=simple_body(), timeout=TIMEOUT_S).status_code == 200


@pytest.fixture(scope="module")
def rate_limited(model_repo, tmp_path_factory):
    grpc_port = _free_port()
    srv = start_server(model_repo, tmp_path_factory.mktemp("log_rate"),
                       ["--grpc-port", str(grpc_port), "--rate-limit-rps", "0.2",
                        "--rate-limit-burst", "3"])
    srv.grpc_target = f"127.0.0.1:{grpc_port}"
    yield srv
    stop_server(srv)


def test_over_the_rate_limit_is_429_with_retry_after_and_health_stays_open(rate_limited):
    codes = [infer(rate_limited, "simple", simple_body()).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    r = infer(rate_limited, "simple", simple_body())
    assert r.status_code == 429
    assert "rate limit" in r.json()["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= 5
    assert requests.get(rate_limited.base_url + "/v2/health/ready",
                        timeout=TIMEOUT_S).status_code == 200
    # gRPC counts against the same client (this IP).
    with grpc.insecure_channel(rate_limited.grpc_target) as ch:
        stub = stubs().rpc.GRPCInferenceServiceStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            stub.ModelMetadata(stubs().pb.ModelMetadataRequest(name="simple"), timeout=TIMEOUT_S)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert ("retry-after", info.value.trailing_metadata()[0][1]) in \
            info.value.trailing_metadata()
