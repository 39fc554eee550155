"""Traces: a W3C traceparent is accepted and propagated (the response carries the same trace
id and inferd's span id), sampled requests are exported as OTLP/HTTP JSON — to a file or to a
collector — with spans for decode, queue, compute and encode; unsampled ones are not."""

import http.server
import json
import shutil
import threading
import time

import pytest

from conftest import Client, start_server, stop_server
from test_metrics import simple_body

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"


def spans_in(docs):
    for doc in docs:
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                yield from ss["spans"]


def read_trace_file(path):
    if not path.exists():
        return []
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def wait_for(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def traced(model_repo, tmp_path_factory):
    repo = tmp_path_factory.mktemp("trace_models")
    shutil.copytree(model_repo / "simple", repo / "simple")
    log_dir = tmp_path_factory.mktemp("trace_log")
    trace_file = log_dir / "traces.jsonl"
    srv = start_server(repo, log_dir, ["--trace-file", str(trace_file), "--trace-rate", "0"])
    srv.trace_file = trace_file
    yield srv
    stop_server(srv)


@pytest.fixture
def tclient(traced):
    c = Client(traced.base_url)
    yield c
    c.session.close()


def test_a_sampled_traceparent_is_propagated_and_exported(traced, tclient):
    sent_ns = time.time_ns()
    r = tclient.infer("simple", simple_body(), headers={"traceparent": f"00-{TRACE_ID}-{PARENT}-01"})
    answered_ns = time.time_ns()
    assert r.status_code == 200
    version, trace_id, span_id, flags = r.headers["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", TRACE_ID, "01")
    assert span_id != PARENT and len(span_id) == 16

    spans = wait_for(lambda: [s for s in spans_in(read_trace_file(traced.trace_file))
                              if s["traceId"] == TRACE_ID])
    by_name = {s["name"]: s for s in spans}
    root = by_name["POST /v2/models/simple/infer"]
    assert root["spanId"] == span_id
    assert root["parentSpanId"] == PARENT
    assert root["kind"] == 2
    # The span's wall times are the request's own (same machine's clock; 5 ms of slack for
    # the clocks' reading granularity).
    assert sent_ns - 5_000_000 <= int(root["startTimeUnixNano"]) <= answered_ns
    assert int(root["endTimeUnixNano"]) <= answered_ns + 5_000_000
    attributes = {a["key"]: a["value"]["stringValue"] for a in root["attributes"]}
    assert attributes["inferd.model"] == "simple"
    assert attributes["http.status_code"] == "200"
    for stage in ("decode", "queue", "compute", "encode"):
        span = by_name[stage]
        assert span["parentSpanId"] == span_id
        assert int(root["startTimeUnixNano"]) <= int(span["startTimeUnixNano"])
        assert int(span["startTimeUnixNano"]) <= int(span["endTimeUnixNano"])
        assert int(span["endTimeUnixNano"]) <= int(root["endTimeUnixNano"])
    assert int(by_name["compute"]["endTimeUnixNano"]) > int(by_name["compute"]["startTimeUnixNano"])


def test_unsampled_and_absent_traceparents_are_not_traced_at_rate_zero(traced, tclient):
    other = "0af7651916cd43dd8448eb211c80319c"
    r = tclient.infer("simple", simple_body(), headers={"traceparent": f"00-{other}-{PARENT}-00"})
    assert r.status_code == 200
    assert "traceparent" not in r.headers
    r = tclient.infer("simple", simple_body())
    assert "traceparent" not in r.headers
    time.sleep(0.5)  # past the exporter's flush interval
    assert not [s for s in spans_in(read_trace_file(traced.trace_file)) if s["traceId"] == other]


class _Collector(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        _Collector.received.append((self.path, self.headers["Content-Type"],
                                    json.loads(self.rfile.read(length))))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_traces_are_posted_to_an_otlp_http_collector(model_repo, tmp_path):
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{collector.server_address[1]}/v1/traces"
    repo = tmp_path / "models"
    repo.mkdir()
    shutil.copytree(model_repo / "simple", repo / "simple")
    srv = start_server(repo, tmp_path, ["--trace-endpoint", endpoint, "--trace-rate", "1"])
    client = Client(srv.base_url)
    try:
        # A malformed traceparent is ignored: a new trace starts (rate 1 samples it).
        r = client.infer("simple", simple_body(), headers={"traceparent": "00-zz-11-01"})
        assert r.status_code == 200
        trace_id = r.headers["traceparent"].split("-")[1]
        assert trace_id != "zz" and len(trace_id) == 32

        def names():
            return {s["name"] for path, ctype, doc in _Collector.received
                    for s in spans_in([doc]) if s["traceId"] == trace_id}
        got = wait_for(lambda: {"decode", "queue", "compute", "encode"} <= names())
        assert got, f"collector received {names()}"
        path, ctype, _ = _Collector.received[0]
        assert path == "/v1/traces"
        assert ctype == "application/json"
    finally:
        client.session.close()
        stop_server(srv)
        collector.shutdown()
