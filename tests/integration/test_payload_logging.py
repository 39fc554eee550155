"""Payload logging (docs/http-api.md, "Payload logging"): sampled inference requests and
responses, over HTTP and gRPC, reach a sink as CloudEvents in binary content mode with KServe's
logger attributes (gRPC ones carry the protobuf messages); a slow sink and a dead sink do not
slow inference, and what they cost is counted as drops."""

import http.server
import threading
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import start_server, stop_server
from grpc_client import make_infer_request, stubs

TIMEOUT_S = 20
SIMPLE = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
                      "data": [float(i) for i in range(16)]},
                     {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": [1.0] * 16}]}
REQUEST_TYPE = "org.kubeflow.serving.inference.request"
RESPONSE_TYPE = "org.kubeflow.serving.inference.response"
PROTO_REQUEST = "application/x-protobuf; messageType=inference.ModelInferRequest"
PROTO_RESPONSE = "application/x-protobuf; messageType=inference.ModelInferResponse"


class Sink(http.server.ThreadingHTTPServer):
    """Records every event; `delay_s` makes it a slow sink."""
    daemon_threads = True

    def __init__(self):
        self.events = []
        self.lock = threading.Lock()
        self.delay_s = 0.0

        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sink.delay_s:
                    time.sleep(sink.delay_s)
                with sink.lock:
                    sink.events.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server_address[1]}/events"


def metric(srv, name):
    text = requests.get(srv.base_url + "/metrics", timeout=TIMEOUT_S).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"no metric {name}")


def infer_latencies(srv, n, **kwargs):
    s = requests.Session()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = s.post(srv.base_url + "/v2/models/simple/infer", json=SIMPLE, timeout=TIMEOUT_S,
                   **kwargs)
        out.append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
    s.close()
    return sorted(out)


def grpc_simple_request(request_id=""):
    x = np.arange(16, dtype=np.float32).reshape(1, 16)
    return make_infer_request("simple", [("INPUT0", "FP32", x),
                                         ("INPUT1", "FP32", np.ones((1, 16), np.float32))],
                              request_id=request_id)


def grpc_stub(srv):
    if srv.grpc_target is None:
        pytest.skip("this build serves no gRPC")
    ch = grpc.insecure_channel(srv.grpc_target)
    grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
    return ch, stubs().rpc.GRPCInferenceServiceStub(ch)


def grpc_latencies(srv, n):
    ch, stub = grpc_stub(srv)
    out = []
    try:
        for i in range(n):
            t = time.perf_counter()
            stub.ModelInfer(grpc_simple_request(f"g{i}"), timeout=TIMEOUT_S)
            out.append(time.perf_counter() - t)
    finally:
        ch.close()
    return sorted(out)


@pytest.fixture(scope="module")
def sink():
    s = Sink()
    yield s
    s.shutdown()


@pytest.fixture(scope="module")
def srv(model_repo, tmp_path_factory, sink):
    s = start_server(model_repo, tmp_path_factory.mktemp("log_payload"),
                     ["--payload-log-url", sink.url, "--payload-log-max-queued", "4",
                      "--payload-log-timeout-ms", "3000", "--payload-log-namespace", "ml"])
    yield s
    stop_server(s)


def wait_events(sink, n, deadline_s=5):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with sink.lock:
            if len(sink.events) >= n:
                return list(sink.events)
        time.sleep(0.02)
    with sink.lock:
        return list(sink.events)


def wait_matching(sink, keep, n, deadline_s=5):
    """The events `keep(headers, body)` maps to something not None (what it maps them to),
    once there are `n` of them or the deadline passes."""
    end = time.monotonic() + deadline_s
    while True:
        with sink.lock:
            events = list(sink.events)
        kept = [k for k in (keep(h, body) for h, body in events) if k is not None]
        if len(kept) >= n or time.monotonic() >= end:
            return kept
        time.sleep(0.02)


def test_request_and_response_arrive_as_cloudevents(srv, sink):
    with sink.lock:
        sink.events.clear()
    r = requests.post(srv.base_url + "/v2/models/simple/infer", json=SIMPLE,
                      headers={"X-Request-Id": "req-42"}, timeout=TIMEOUT_S)
    assert r.status_code == 200
    events = wait_events(sink, 2)
    assert len(events) == 2
    by_type = {h["ce-type"]: (h, body) for h, body in events}
    req_h, req_body = by_type["org.kubeflow.serving.inference.request"]
    res_h, res_body = by_type["org.kubeflow.serving.inference.response"]
    for h in (req_h, res_h):
        assert h["ce-specversion"] == "1.0"
        assert h["ce-id"] == "req-42"
        assert h["ce-source"].startswith("http://127.0.0.1:")
        assert h["ce-inferenceservicename"] == "simple"
        assert h["ce-namespace"] == "ml"
        assert h["ce-component"] == "predictor"
        assert h["ce-time"].endswith("Z")
        assert h["content-type"] == "application/json"
    assert req_body == r.request.body
    assert res_body == r.content


def test_grpc_infer_arrives_as_protobuf_cloudevents(srv, sink):
    ch, stub = grpc_stub(srv)
    request = grpc_simple_request("mine")
    with ch:
        response = stub.ModelInfer(request, timeout=TIMEOUT_S,
                                   metadata=[("x-request-id", "grpc-7")])
    events = wait_matching(sink, lambda h, body: (h, body) if h["ce-id"] == "grpc-7" else None,
                           2)
    by_type = {h["ce-type"]: (h, body) for h, body in events}
    assert set(by_type) == {REQUEST_TYPE, RESPONSE_TYPE}
    req_h, req_body = by_type[REQUEST_TYPE]
    res_h, res_body = by_type[RESPONSE_TYPE]
    for h in (req_h, res_h):  # the attributes an HTTP event has
        assert h["ce-specversion"] == "1.0"
        assert h["ce-source"].startswith("http://127.0.0.1:")
        assert h["ce-inferenceservicename"] == "simple"
        assert h["ce-modelname"] == "simple"
        assert h["ce-namespace"] == "ml"
        assert h["ce-time"].endswith("Z")
    assert req_h["content-type"] == PROTO_REQUEST
    assert res_h["content-type"] == PROTO_RESPONSE
    # The messages themselves: what the client sent and what it received.
    pb = stubs().pb
    assert pb.ModelInferRequest.FromString(req_body) == request
    assert pb.ModelInferResponse.FromString(res_body) == response


def test_grpc_stream_logs_each_request_and_only_successful_responses(srv, sink):
    ch, stub = grpc_stub(srv)
    good = grpc_simple_request("stream-good")
    bad = make_infer_request("simple", [("INPUT0", "FP32", np.zeros((1, 3), np.float32)),
                                        ("INPUT1", "FP32", np.zeros((1, 3), np.float32))],
                             request_id="stream-bad")
    with ch:
        answers = list(stub.ModelStreamInfer(iter([good, bad]), timeout=TIMEOUT_S))
    assert sorted(bool(a.error_message) for a in answers) == [False, True]
    pb = stubs().pb

    def streamed(h, body):  # (headers, message) of this test's events
        if h["content-type"] == PROTO_REQUEST:
            msg = pb.ModelInferRequest.FromString(body)
        elif h["content-type"] == PROTO_RESPONSE:
            msg = pb.ModelInferResponse.FromString(body)
        else:
            return None
        return (h, msg) if msg.id.startswith("stream-") else None

    wait_matching(sink, streamed, 3)
    events = wait_matching(sink, streamed, 4, deadline_s=0.3)  # a 4th must not come
    requests_logged = {m.id: h["ce-id"] for h, m in events if h["ce-type"] == REQUEST_TYPE}
    responses_logged = {m.id: h["ce-id"] for h, m in events if h["ce-type"] == RESPONSE_TYPE}
    assert set(requests_logged) == {"stream-good", "stream-bad"}
    # A stream's requests share its metadata, so each gets its own event id; a failed request's
    # response is not logged (as over HTTP, and as KServe's logger logs only 200 answers).
    assert requests_logged["stream-good"] != requests_logged["stream-bad"]
    assert responses_logged == {"stream-good": requests_logged["stream-good"]}


def test_a_slow_sink_does_not_slow_inference(srv, sink):
    baseline = infer_latencies(srv, 10)  # the sink answers at once
    wait_events(sink, 10**9, deadline_s=0.5)
    dropped_before = metric(srv, 'inferd_payload_log_events_dropped_total{reason="queue_full"}')
    sink.delay_s = 1.0
    try:
        slow = infer_latencies(srv, 20)
    finally:
        sink.delay_s = 0.0
    # 40 events behind a sink taking 1 s each: nearly all are dropped, none waited for.
    median_base, median_slow = baseline[len(baseline) // 2], slow[len(slow) // 2]
    print(f"median latency: sink fast {median_base * 1e3:.2f} ms, "
          f"sink slow {median_slow * 1e3:.2f} ms")
    assert slow[-1] < 0.5, slow
    assert median_slow < max(5 * median_base, 0.05)
    dropped = metric(srv, 'inferd_payload_log_events_dropped_total{reason="queue_full"}')
    assert dropped - dropped_before >= 30


def test_a_dead_sink_is_counted_and_harmless(model_repo, tmp_path):
    dead = Sink()
    url = dead.url
    dead.shutdown()
    dead.server_close()  # nothing listens there any more
    s = start_server(model_repo, tmp_path, ["--payload-log-url", url,
                                            "--payload-log-rate", "1"])
    try:
        lat = infer_latencies(s, 10)
        assert lat[-1] < 0.5, lat
        expected = 20
        if s.grpc_target is not None:
            lat = grpc_latencies(s, 10)
            assert lat[-1] < 0.5, lat
            expected += 20
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if metric(s, 'inferd_payload_log_events_dropped_total{reason="sink_error"}') >= expected:
                break
            time.sleep(0.05)
        assert metric(s, 'inferd_payload_log_events_dropped_total{reason="sink_error"}') >= expected
        assert metric(s, "inferd_payload_log_events_sent_total") == 0
    finally:
        stop_server(s)


def test_sampling_zero_logs_nothing(model_repo, tmp_path, sink):
    s = start_server(model_repo, tmp_path, ["--payload-log-url", sink.url,
                                            "--payload-log-rate", "0"])
    try:
        infer_latencies(s, 5)
        if s.grpc_target is not None:
            grpc_latencies(s, 5)
        assert metric(s, "inferd_payload_log_events_sent_total") == 0
        assert metric(s, 'inferd_payload_log_events_dropped_total{reason="queue_full"}') == 0
    finally:
        stop_server(s)


def test_grpc_sampling_logs_about_the_configured_share_in_pairs(model_repo, tmp_path):
    sink = Sink()
    s = start_server(model_repo, tmp_path, ["--payload-log-url", sink.url,
                                            "--payload-log-rate", "0.5",
                                            "--payload-log-max-queued", "1000"])
    try:
        n = 200
        grpc_latencies(s, n)
        end = time.monotonic() + 10
        while time.monotonic() < end and metric(s, "inferd_payload_log_queue_depth") > 0:
            time.sleep(0.05)
        time.sleep(0.1)  # the last event in flight
        events = wait_events(sink, 0)
        ids = {t: sorted(h["ce-id"] for h, _ in events if h["ce-type"] == t)
               for t in (REQUEST_TYPE, RESPONSE_TYPE)}
        # Binomial(200, 0.5): 70..130 is more than four standard deviations either side.
        assert 70 <= len(ids[REQUEST_TYPE]) <= 130, len(ids[REQUEST_TYPE])
        # A request is sampled with its response: both or neither.
        assert ids[REQUEST_TYPE] == ids[RESPONSE_TYPE]
        assert len(set(ids[REQUEST_TYPE])) == len(ids[REQUEST_TYPE])
        assert metric(s, "inferd_payload_log_events_sent_total") == len(events)
    finally:
        stop_server(s)
        sink.shutdown()
