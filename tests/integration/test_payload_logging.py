"""Payload logging (docs/http-api.md, "Payload logging"): sampled inference requests and
responses reach a sink as CloudEvents in binary content mode with KServe's logger attributes;
a slow sink and a dead sink do not slow inference, and what they cost is counted as drops."""

import http.server
import threading
import time

import pytest
import requests

from conftest import start_server, stop_server

TIMEOUT_S = 20
SIMPLE = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
                      "data": [float(i) for i in range(16)]},
                     {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": [1.0] * 16}]}


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
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if metric(s, 'inferd_payload_log_events_dropped_total{reason="sink_error"}') >= 20:
                break
            time.sleep(0.05)
        assert metric(s, 'inferd_payload_log_events_dropped_total{reason="sink_error"}') >= 20
        assert metric(s, "inferd_payload_log_events_sent_total") == 0
    finally:
        stop_server(s)


def test_sampling_zero_logs_nothing(model_repo, tmp_path, sink):
    s = start_server(model_repo, tmp_path, ["--payload-log-url", sink.url,
                                            "--payload-log-rate", "0"])
    try:
        infer_latencies(s, 5)
        assert metric(s, "inferd_payload_log_events_sent_total") == 0
        assert metric(s, 'inferd_payload_log_events_dropped_total{reason="queue_full"}') == 0
    finally:
        stop_server(s)
