"""Graceful drain on SIGTERM (docs/security.md): readiness turns false at once, requests in
flight at the signal all succeed, the process exits 0; a second signal exits at once."""

import concurrent.futures
import signal
import subprocess
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import _free_port, start_server
from grpc_client import make_infer_request, parse_infer_response, stubs
from kserve_v2 import json_input

TIMEOUT_S = 20


def start(model_repo, tmp_path_factory, name, extra):
    grpc_port = _free_port()
    srv = start_server(model_repo, tmp_path_factory.mktemp(name),
                       ["--grpc-port", str(grpc_port), *extra])
    srv.grpc_target = f"127.0.0.1:{grpc_port}"
    return srv


def slow_http(url, i):
    """One request to batch_timeout, which waits 400 ms in its queue before it runs."""
    arr = np.full((1, 4), float(i), np.float32)
    with requests.Session() as s:
        r = s.post(f"{url}/v2/models/batch_timeout/infer",
                   json={"inputs": [json_input("INPUT0", "FP32", arr)]}, timeout=TIMEOUT_S)
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(np.array(r.json()["outputs"][0]["data"], np.float32),
                                  arr.ravel())
    return True


def slow_grpc(target, i):
    arr = np.full((1, 4), float(i), np.float32)
    with grpc.insecure_channel(target) as ch:
        grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
        stub = stubs().rpc.GRPCInferenceServiceStub(ch)
        resp = stub.ModelInfer(make_infer_request("batch_timeout", [("INPUT0", "FP32", arr)]),
                               timeout=TIMEOUT_S)
    np.testing.assert_array_equal(parse_infer_response(resp)["OUTPUT0"], arr)
    return True


def wait_exit(srv, timeout=TIMEOUT_S):
    try:
        return srv.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()
        pytest.fail("inferd did not exit after SIGTERM")


def test_requests_in_flight_at_sigterm_all_succeed_and_exit_is_clean(model_repo,
                                                                     tmp_path_factory):
    srv = start(model_repo, tmp_path_factory, "log_drain", ["--drain-timeout-secs", "10"])
    stubs()  # generate the gRPC stubs before the clock starts
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        futures = [pool.submit(slow_http, srv.base_url, i) for i in range(8)]
        futures += [pool.submit(slow_grpc, srv.grpc_target, 100 + i) for i in range(4)]
        time.sleep(0.2)  # all of them are read and queued, none answered (400 ms queue delay)
        assert not any(f.done() for f in futures)
        srv.proc.send_signal(signal.SIGTERM)
        assert all(f.result(timeout=TIMEOUT_S) for f in futures)
    assert wait_exit(srv) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(srv.base_url + "/v2/health/live", timeout=2)


def test_readiness_turns_false_at_once_while_the_grace_period_still_serves(model_repo,
                                                                            tmp_path_factory):
    srv = start(model_repo, tmp_path_factory, "log_drain_grace",
                ["--drain-grace-secs", "2", "--drain-timeout-secs", "10"])
    s = stubs()
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert requests.get(srv.base_url + "/v2/health/ready", timeout=2).status_code == 503
    assert requests.get(srv.base_url + "/v2/health/live", timeout=2).status_code == 200
    with grpc.insecure_channel(srv.grpc_target) as ch:
        stub = s.rpc.GRPCInferenceServiceStub(ch)
        assert not stub.ServerReady(s.pb.ServerReadyRequest(), timeout=TIMEOUT_S).ready
        health = s.health_rpc.HealthStub(ch)
        assert health.Check(s.health.HealthCheckRequest(), timeout=TIMEOUT_S).status == 2
    # New requests are still served during the grace period.
    assert slow_http(srv.base_url, 7)
    assert wait_exit(srv) == 0


def test_a_second_signal_exits_at_once(model_repo, tmp_path_factory):
    srv = start(model_repo, tmp_path_factory, "log_drain_twice", ["--drain-grace-secs", "60"])
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    assert srv.proc.poll() is None  # draining: the grace period has a minute to go
    start_t = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    code = wait_exit(srv, timeout=5)
    assert time.monotonic() - start_t < 5
    assert code == 128 + signal.SIGTERM
