"""Dynamic batching through the real server: no cross-talk under concurrent load, batches
really form, a full queue answers 503, an expired request answers 504 without running."""

import concurrent.futures
import time

import numpy as np
import requests

from kserve_v2 import error_message, json_input


def identity_request(arr, parameters=None):
    body = {"inputs": [json_input("INPUT0", "FP32", arr)]}
    if parameters:
        body["parameters"] = parameters
    return body


def post(url, model, body, timeout=30):
    return requests.post(f"{url}/v2/models/{model}/infer", json=body, timeout=timeout)


def stats(url, model):
    r = requests.get(f"{url}/v2/models/{model}/stats", timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["model_stats"][0]


def test_concurrent_requests_batch_together_and_each_gets_its_own_rows(server):
    url = server.base_url
    before = stats(url, "batch_identity")

    def one(i):
        rows = 1 + i % 3
        arr = (np.arange(rows * 4, dtype=np.float32).reshape(rows, 4) + 1000 * i)
        with requests.Session() as s:
            r = s.post(f"{url}/v2/models/batch_identity/infer", json=identity_request(arr),
                       timeout=30)
        assert r.status_code == 200, r.text
        out = r.json()["outputs"][0]
        assert out["shape"] == [rows, 4]
        np.testing.assert_array_equal(np.array(out["data"], np.float32).reshape(rows, 4), arr)
        return rows

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        total_rows = sum(pool.map(one, range(160)))

    after = stats(url, "batch_identity")
    requests_done = (after["inference_stats"]["success"]["count"]
                     - before["inference_stats"]["success"]["count"])
    executions = after["execution_count"] - before["execution_count"]
    assert requests_done == 160
    assert after["inference_count"] - before["inference_count"] == total_rows
    # Batching happened: fewer engine executions than requests, and batch_stats shows the
    # batch sizes that ran (each execution once, under its size in rows).
    assert executions < requests_done, (executions, requests_done)
    by_size = {b["batch_size"]: b["compute_infer"]["count"] for b in after["batch_stats"]}
    assert any(size > 3 for size in by_size), by_size
    assert sum(by_size.values()) == after["execution_count"]


def test_a_full_queue_answers_503_and_queued_requests_still_succeed(server):
    url = server.base_url
    arr = np.ones((1, 4), np.float32)

    def one(_):
        return post(url, "batch_small_queue", identity_request(arr))

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(one, range(6)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) >= 2, codes
    assert codes.count(503) >= 1, codes
    assert set(codes) <= {200, 503}, codes
    for r in responses:
        if r.status_code == 503:
            assert "queue is full" in error_message(r)
            assert "batch_small_queue" in error_message(r)
        else:
            np.testing.assert_array_equal(r.json()["outputs"][0]["data"], arr.ravel())


def test_a_request_that_expires_in_the_queue_gets_504_and_never_runs(server):
    url = server.base_url
    before = stats(url, "batch_timeout")
    started = time.monotonic()
    r = post(url, "batch_timeout", identity_request(np.ones((1, 4), np.float32),
                                                    {"timeout": 20000}))
    elapsed = time.monotonic() - started
    assert r.status_code == 504, r.text
    assert "timed out" in error_message(r)
    assert elapsed < 0.35, elapsed  # answered at its deadline, not after the 400 ms delay
    after = stats(url, "batch_timeout")
    assert after["execution_count"] == before["execution_count"]
    assert (after["inference_stats"]["fail"]["count"]
            == before["inference_stats"]["fail"]["count"] + 1)

    # Without a timeout the same request waits out the delay and succeeds.
    r = post(url, "batch_timeout", identity_request(np.ones((1, 4), np.float32)))
    assert r.status_code == 200, r.text


def test_a_priority_outside_the_levels_is_a_400(server):
    r = post(server.base_url, "batch_identity",
             identity_request(np.ones((1, 4), np.float32), {"priority": 5}))
    assert r.status_code == 400
    assert "priority" in error_message(r)


def test_a_request_whose_client_disconnects_while_queued_never_runs(server):
    import json
    import socket
    url = server.base_url
    before = stats(url, "batch_timeout")
    body = json.dumps(identity_request(np.ones((1, 4), np.float32))).encode()
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"POST /v2/models/batch_timeout/infer HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.05)  # queued behind the 400 ms delay
    # The request is dropped when the batch would have formed: counted failed, never run.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        after = stats(url, "batch_timeout")
        if after["inference_stats"]["fail"]["count"] > before["inference_stats"]["fail"]["count"]:
            break
        time.sleep(0.05)
    assert after["inference_stats"]["fail"]["count"] == before["inference_stats"]["fail"]["count"] + 1
    assert after["execution_count"] == before["execution_count"]
    assert after["inference_stats"]["success"]["count"] == before["inference_stats"]["success"]["count"]
    metrics = requests.get(f"{url}/metrics", timeout=10).text
    cancelled = [line for line in metrics.splitlines()
                 if line.startswith("nv_inference_request_failure{")
                 and 'model="batch_timeout"' in line and 'reason="CANCELED"' in line]
    assert cancelled and float(cancelled[0].rsplit(" ", 1)[1]) >= 1, cancelled


def test_a_lone_client_does_not_wait_out_the_queue_delay(server):
    """batch_long_delay has Triton's config with a 300 ms delay. A client that sends one request
    at a time is the only one in the server: no request can join its batch, so inferd runs it at
    once (the delay is a maximum) — the server's own queue time says so, whatever the machine's
    speed."""
    url = server.base_url
    before = stats(url, "batch_long_delay")
    for i in range(5):
        r = post(url, "batch_long_delay", identity_request(np.full((1, 4), i, np.float32)))
        assert r.status_code == 200, r.text
    after = stats(url, "batch_long_delay")
    queue = after["inference_stats"]["queue"]
    count = queue["count"] - before["inference_stats"]["queue"]["count"]
    assert count == 5
    mean_queue_ms = (queue["ns"] - before["inference_stats"]["queue"]["ns"]) / count / 1e6
    assert mean_queue_ms < 100, f"each request queued {mean_queue_ms:.1f} ms on average"
