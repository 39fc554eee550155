"""Connection behaviour: keep-alive across requests (errors included) and concurrent clients
whose answers must never cross."""

import http.client
import json
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import onnx
import requests
from onnx import numpy_helper

from kserve_v2 import binary_request, json_input, parse_infer_response

THREADS = 8
REQUESTS_PER_THREAD = 50


def test_keep_alive_serves_many_requests_on_one_connection(server):
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    x = np.ones((1, 16), np.float32)
    infer = json.dumps({"inputs": [json_input("INPUT0", "FP32", x),
                                   json_input("INPUT1", "FP32", x)]})
    # Errors in the middle must not close the connection either.
    plan = [("GET", "/v2/health/live", None, 200),
            ("POST", "/v2/models/simple/infer", infer, 200),
            ("GET", "/v2/models/no_such_model", None, 404),
            ("POST", "/v2/models/simple/infer", '{"inputs": [', 400),
            ("GET", "/v2/models/simple", None, 200),
            ("POST", "/v2/models/simple/infer", infer, 200),
            ("GET", "/v2", None, 200)] * 3
    conn.connect()
    sock = conn.sock
    try:
        for method, path, body, status in plan:
            headers = {"Content-Type": "application/json"} if body else {}
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            r.read()
            assert r.status == status, f"{method} {path}: {r.status}"
            assert (r.getheader("Connection") or "").lower() != "close", f"{method} {path}"
            assert conn.sock is sock, f"connection was closed after {method} {path}"
    finally:
        conn.close()


def test_requests_session_reuses_its_connection(client):
    for _ in range(20):
        assert client.get("/v2/health/ready").status_code == 200
    pool = client.session.get_adapter(client.base_url).poolmanager.connection_from_url(
        client.base_url)
    assert pool.num_connections == 1, "the server closed a keep-alive connection"


def test_concurrent_mixed_mlp_requests_each_get_their_own_answer(server, model_repo):
    model = onnx.load(str(model_repo / "mlp" / "1" / "model.onnx"))
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}

    def reference(x):
        hidden = np.maximum(x.astype(np.float64) @ w["fc1.weight"] + w["fc1.bias"], 0.0)
        logits = hidden @ w["fc2.weight"] + w["fc2.bias"]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return logits, e / e.sum(axis=1, keepdims=True)

    url = server.base_url + "/v2/models/mlp/infer"
    start = threading.Barrier(THREADS)

    def worker(thread_index):
        rng = np.random.RandomState(1000 + thread_index)
        failures = []
        with requests.Session() as session:
            start.wait()
            for i in range(REQUESTS_PER_THREAD):
                batch = int(rng.randint(1, 9))
                x = rng.standard_normal((batch, 64)).astype(np.float32)
                tag = f"t{thread_index}-r{i}"
                if i % 2:
                    body, headers = binary_request([("input", "FP32", x)],
                                                   outputs=["logits", "probabilities"],
                                                   request_id=tag)
                    r = session.post(url, data=body, headers=headers, timeout=30)
                else:
                    r = session.post(url, json={"id": tag,
                                                "inputs": [json_input("input", "FP32", x)]},
                                     timeout=30)
                try:
                    header, out = parse_infer_response(r)
                    assert header.get("id") == tag, f"id {header.get('id')!r}"
                    logits, probs = reference(x)
                    np.testing.assert_allclose(out["logits"], logits, rtol=1e-4, atol=1e-5)
                    np.testing.assert_allclose(out["probabilities"], probs, rtol=1e-4,
                                               atol=1e-5)
                except AssertionError as e:
                    failures.append(f"{tag} (batch {batch}): {str(e)[:300]}")
        return failures

    with ThreadPoolExecutor(THREADS) as pool:
        failures = [f for fs in pool.map(worker, range(THREADS)) for f in fs]
    assert not failures, f"{len(failures)} bad answers, first: {failures[:3]}"


def test_connection_close_request_header_is_honoured(server):
    host, port = server.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        conn.request("GET", "/v2/health/live", headers={"Connection": "close"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        assert (r.getheader("Connection") or "").lower() == "close"
        assert r.will_close
    finally:
        conn.close()


def test_http_1_0_connections_close_unless_kept_alive(server):
    host, port = _host_port(server)

    def ask(sock, keep_alive):
        wire = _infer_request_bytes(host, port, "old").replace(b"HTTP/1.1", b"HTTP/1.0", 1)
        if keep_alive:
            wire = wire.replace(b"\r\n\r\n", b"\r\nConnection: keep-alive\r\n\r\n", 1)
        sock.sendall(wire)
        reader = sock.makefile("rb")
        assert b" 200 " in reader.readline()
        fields = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, value = line.decode().split(":", 1)
            fields[name.strip().lower()] = value.strip().lower()
        assert json.loads(reader.read(int(fields["content-length"])))["id"] == "old"
        return fields, reader

    with socket.create_connection((host, port), timeout=20) as sock:
        fields, reader = ask(sock, keep_alive=True)
        assert fields.get("connection") == "keep-alive"
        fields, reader = ask(sock, keep_alive=False)  # the same connection, still open
        assert fields.get("connection") != "keep-alive"
        assert reader.read() == b""  # then closed by the server


def test_chunked_request_body_is_accepted(client):
    x = np.ones((1, 16), np.float32)
    payload = json.dumps({"inputs": [json_input("INPUT0", "FP32", x),
                                     json_input("INPUT1", "FP32", 2 * x)]}).encode()
    chunks = (payload[i:i + 50] for i in range(0, len(payload), 50))  # generator => chunked
    r = client.post("/v2/models/simple/infer", data=chunks,
                    headers={"Content-Type": "application/json"})
    _, out = parse_infer_response(r)
    np.testing.assert_array_equal(out["OUTPUT0"], 3 * x)


def test_json_request_without_content_type_is_accepted(server):
    # Triton ignores Content-Type; curl -d sends application/x-www-form-urlencoded.
    x = np.ones((1, 16), np.float32)
    payload = json.dumps({"inputs": [json_input("INPUT0", "FP32", x),
                                     json_input("INPUT1", "FP32", x)]})
    r = requests.post(server.base_url + "/v2/models/simple/infer", data=payload,
                      headers={"Content-Type": "application/x-www-form-urlencoded"},
                      timeout=20)
    _, out = parse_infer_response(r)
    np.testing.assert_array_equal(out["OUTPUT1"], np.zeros((1, 16), np.float32))


def _host_port(server):
    host, port = server.base_url.removeprefix("http://").split(":")
    return host, int(port)


def _infer_request_bytes(host, port, request_id, batch=1):
    x = np.full((batch, 64), 0.5, np.float32)
    body = json.dumps({"id": request_id, "inputs": [json_input("input", "FP32", x)]}).encode()
    head = (f"POST /v2/models/mlp/infer HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def test_pipelined_requests_are_answered_in_order(server):
    host, port = _host_port(server)
    wire = b"".join(_infer_request_bytes(host, port, f"p{i}") for i in range(5))
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.sendall(wire)  # all five before reading any answer
        reader = sock.makefile("rb")
        for i in range(5):
            status = reader.readline()
            assert b" 200 " in status, status
            length = None
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            assert length is not None, "pipelined answer without Content-Length"
            assert json.loads(reader.read(length))["id"] == f"p{i}"


def test_an_answer_larger_than_the_send_buffer_reaches_a_slow_reader_whole(server):
    """The answer is written at once as far as the socket takes it, the rest when the client
    reads: 8 MB of INT64 to a client that starts reading late and reads in small pieces, then a
    second request on the same connection."""
    host, port = _host_port(server)
    x = np.arange(4 * 262144, dtype=np.int64).reshape(4, 262144)
    body, headers = binary_request([("INPUT0", "INT64", x)], outputs=["OUTPUT0"])
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    wire = (f"POST /v2/models/identity_int64/infer HTTP/1.1\r\nHost: {host}:{port}\r\n{head}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((host, port), timeout=20) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        for _ in range(2):
            sock.sendall(wire)
            time.sleep(0.3)  # the server's send buffer fills while nobody reads
            reader = sock.makefile("rb", buffering=0)
            status = reader.readline()
            assert b" 200 " in status, status
            fields = {}
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, value = line.decode().split(":", 1)
                fields[name.strip().lower()] = value.strip()
            left, parts = int(fields["content-length"]), []
            while left > 0:
                part = reader.read(min(left, 65536))
                assert part, "the connection ended mid-answer"
                parts.append(part)
                left -= len(part)
            answer = b"".join(parts)
            header_length = int(fields["inference-header-content-length"])
            assert json.loads(answer[:header_length])["outputs"][0]["shape"] == [4, 262144]
            np.testing.assert_array_equal(np.frombuffer(answer[header_length:], np.int64),
                                          x.ravel())


def test_clients_vanishing_mid_request_leave_the_server_serving(server, client):
    host, port = _host_port(server)
    for i in range(30):
        with socket.create_connection((host, port), timeout=20) as sock:
            wire = _infer_request_bytes(host, port, f"gone{i}", batch=64)
            # Alternately: the whole request then hang up; half the body then hang up.
            sock.sendall(wire if i % 2 else wire[:len(wire) // 2])
    assert client.get("/v2/health/live").status_code == 200
    x = np.ones((2, 64), np.float32)
    r = client.infer("mlp", {"inputs": [json_input("input", "FP32", x)]})
    assert r.status_code == 200, r.text


def test_many_idle_connections_do_not_starve_active_clients(server, client):
    host, port = _host_port(server)
    idle = [socket.create_connection((host, port), timeout=20) for _ in range(100)]
    try:
        for sock in idle[::10]:
            sock.sendall(b"GET /v2/health/live HTTP/1.1\r\n")  # an unfinished request line
        for _ in range(5):
            assert client.get("/v2/models/simple/ready", timeout=5).status_code == 200
    finally:
        for sock in idle:
            sock.close()


def test_concurrent_requests_to_different_models_never_cross(server):
    """8 threads interleave simple, identity_int64, text_upper and both versioned versions;
    every answer must be the one computed from its own request."""

    def one_request(session, rng, i):
        kind = i % 5
        if kind == 0:
            batch = int(rng.randint(1, 9))
            a, b = (rng.uniform(-9, 9, (batch, 16)).astype(np.float32) for _ in range(2))
            r = session.post(server.base_url + "/v2/models/simple/infer", timeout=30, json={
                "inputs": [json_input("INPUT0", "FP32", a), json_input("INPUT1", "FP32", b)]})
            _, out = parse_infer_response(r)
            np.testing.assert_array_equal(out["OUTPUT0"], a + b)
            np.testing.assert_array_equal(out["OUTPUT1"], a - b)
        elif kind == 1:
            x = rng.randint(-2**62, 2**62, (int(rng.randint(1, 5)), int(rng.randint(1, 40))),
                            dtype=np.int64)
            body, headers = binary_request([("INPUT0", "INT64", x)], outputs=["OUTPUT0"])
            r = session.post(server.base_url + "/v2/models/identity_int64/infer", data=body,
                             headers=headers, timeout=30)
            np.testing.assert_array_equal(parse_infer_response(r)[1]["OUTPUT0"], x)
        elif kind == 2:
            words = [f"w{rng.randint(0, 10**6)}x" for _ in range(int(rng.randint(1, 6)))]
            r = session.post(server.base_url + "/v2/models/text_upper/infer", timeout=30, json={
                "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1, len(words)],
                            "data": words}]})
            got = parse_infer_response(r)[1]["upper"].tolist()
            assert got == [[w.upper().encode() for w in words]]
        else:
            version = 1 if kind == 3 else 3
            x = rng.uniform(-5, 5, (int(rng.randint(1, 9)), 4)).astype(np.float32)
            r = session.post(f"{server.base_url}/v2/models/versioned/versions/{version}/infer",
                             json={"inputs": [json_input("x", "FP32", x)]}, timeout=30)
            np.testing.assert_array_equal(parse_infer_response(r)[1]["y"],
                                          x + np.float32(version))

    def worker(thread_index):
        rng = np.random.RandomState(2000 + thread_index)
        failures = []
        with requests.Session() as session:
            for i in range(40):
                try:
                    one_request(session, rng, i + thread_index)
                except AssertionError as e:
                    failures.append(f"thread {thread_index} request {i}: {str(e)[:300]}")
        return failures

    with ThreadPoolExecutor(THREADS) as pool:
        failures = [f for fs in pool.map(worker, range(THREADS)) for f in fs]
    assert not failures, f"{len(failures)} bad answers, first: {failures[:3]}"
