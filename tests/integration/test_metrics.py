"""Prometheus metrics on GET /metrics (HTTP port and --metrics-port): Triton's names and labels,
values that change exactly as requests are made, inferd's histograms and process metrics.

Each test reads the exposition before and after its requests and checks the deltas; the parser
here (parse_exposition) is shared by the cache, logging and Prometheus tests.
"""

import re
import shutil

import pytest
import requests

from conftest import Client, _free_port, start_server, stop_server

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')

TRITON_FAMILIES = [
    "nv_inference_request_success", "nv_inference_request_failure", "nv_inference_count",
    "nv_inference_exec_count", "nv_inference_pending_request_count",
    "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
    "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us",
    "nv_inference_compute_output_duration_us", "nv_model_load_duration_secs",
    "nv_cache_num_hits_per_model", "nv_cache_num_misses_per_model",
    "nv_cache_hit_duration_per_model", "nv_cache_miss_duration_per_model",
    "nv_cpu_utilization", "nv_cpu_memory_total_bytes", "nv_cpu_memory_used_bytes",
]
INFERD_FAMILIES = [
    "inferd_request_duration_seconds", "inferd_queue_duration_seconds",
    "inferd_compute_duration_seconds", "inferd_process_resident_memory_bytes",
    "inferd_process_threads", "inferd_open_connections", "inferd_connections_total",
]


def parse_exposition(text):
    """{(name, frozenset(labels.items())): value} plus {name: type}; asserts the syntax."""
    samples, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert name not in types, f"duplicate TYPE line for {name}"
            types[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"malformed sample line: {line!r}"
        labels = frozenset(LABEL_RE.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset((k, str(v)) for k, v in labels.items())), 0.0)


def scrape(client_or_url):
    if isinstance(client_or_url, str):
        r = requests.get(client_or_url + "/metrics", timeout=10)
    else:
        r = client_or_url.get("/metrics")
    assert r.status_code == 200, r.text
    return parse_exposition(r.text)[0]


def simple_body(rows=1, value=1.0):
    data = [[value + i] * 16 for i in range(rows)]
    return {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [rows, 16], "data": data},
        {"name": "INPUT1", "datatype": "FP32", "shape": [rows, 16], "data": data}]}


@pytest.fixture(scope="module")
def metrics_server(model_repo, tmp_path_factory):
    repo = tmp_path_factory.mktemp("metrics_models")
    shutil.copytree(model_repo / "simple", repo / "simple")
    metrics_port = _free_port()
    srv = start_server(repo, tmp_path_factory.mktemp("metrics_log"),
                       ["--metrics-port", str(metrics_port)])
    srv.metrics_url = f"http://127.0.0.1:{metrics_port}"
    yield srv
    stop_server(srv)


@pytest.fixture
def mclient(metrics_server):
    c = Client(metrics_server.base_url)
    yield c
    c.session.close()


def test_exposition_is_prometheus_text_with_every_family(mclient):
    r = mclient.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples, types = parse_exposition(r.text)
    for family in TRITON_FAMILIES + INFERD_FAMILIES:
        assert family in types, f"missing family {family}"
    assert types["nv_inference_request_success"] == "counter"
    assert types["nv_inference_pending_request_count"] == "gauge"
    assert types["inferd_request_duration_seconds"] == "histogram"
    for reason in ("REJECTED", "CANCELED", "BACKEND", "OTHER"):
        assert ("nv_inference_request_failure",
                frozenset({("model", "simple"), ("version", "1"), ("reason", reason)})) in samples


def test_counters_change_exactly_as_requests_are_made(mclient):
    before = scrape(mclient)
    for i in range(3):
        assert mclient.infer("simple", simple_body(value=float(i))).status_code == 200
    bad = simple_body()
    bad["inputs"][0]["name"] = "NOPE"  # reaches the model, fails validation
    assert mclient.infer("simple", bad).status_code == 400
    after = scrape(mclient)

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    m = {"model": "simple", "version": 1}
    assert delta("nv_inference_request_success", **m) == 3
    assert delta("nv_inference_request_failure", reason="OTHER", **m) == 1
    assert delta("nv_inference_request_failure", reason="BACKEND", **m) == 0
    assert delta("nv_inference_count", **m) == 3
    assert delta("nv_inference_exec_count", **m) == 3
    assert value(after, "nv_inference_pending_request_count", **m) == 0
    assert delta("nv_inference_request_duration_us", **m) > 0
    assert delta("nv_inference_compute_infer_duration_us", **m) > 0
    assert delta("inferd_request_duration_seconds_count", **m) == 3
    assert delta("inferd_queue_duration_seconds_count", **m) == 3
    assert delta("inferd_compute_duration_seconds_count", **m) == 3
    assert delta("inferd_request_duration_seconds_bucket", le="+Inf", **m) == 3
    assert delta("inferd_request_duration_seconds_sum", **m) > 0


def test_a_batch_counts_its_rows_as_inferences_and_one_execution(mclient):
    before = scrape(mclient)
    assert mclient.infer("simple", simple_body(rows=4)).status_code == 200
    after = scrape(mclient)
    m = {"model": "simple", "version": 1}
    assert value(after, "nv_inference_count", **m) - value(before, "nv_inference_count", **m) == 4
    assert (value(after, "nv_inference_exec_count", **m)
            - value(before, "nv_inference_exec_count", **m)) == 1
    assert (value(after, "nv_inference_request_success", **m)
            - value(before, "nv_inference_request_success", **m)) == 1


def test_histogram_buckets_are_cumulative(mclient):
    samples = scrape(mclient)
    buckets = sorted(
        (float(dict(labels)["le"]), v) for (name, labels), v in samples.items()
        if name == "inferd_request_duration_seconds_bucket" and dict(labels)["model"] == "simple")
    counts = [v for _, v in buckets]
    assert counts == sorted(counts)
    assert buckets[-1][0] == float("inf")
    assert buckets[-1][1] == value(samples, "inferd_request_duration_seconds_count",
                                   model="simple", version=1)


def test_model_load_duration_is_reported(mclient):
    samples = scrape(mclient)
    assert value(samples, "nv_model_load_duration_secs", model="simple", version=1) > 0


def test_process_and_host_metrics(mclient):
    samples = scrape(mclient)
    assert value(samples, "inferd_process_resident_memory_bytes") > 1 << 20
    assert value(samples, "inferd_process_threads") >= 2
    assert value(samples, "inferd_open_connections", frontend="http") >= 1  # this client
    assert value(samples, "inferd_connections_total", frontend="http") >= 1
    total = value(samples, "nv_cpu_memory_total_bytes")
    assert 0 < value(samples, "nv_cpu_memory_used_bytes") < total
    assert 0 <= value(samples, "nv_cpu_utilization") <= 1


def test_metrics_port_serves_metrics_and_nothing_else(metrics_server, mclient):
    samples = scrape(metrics_server.metrics_url)
    assert ("nv_inference_request_success",
            frozenset({("model", "simple"), ("version", "1")})) in samples
    r = requests.get(metrics_server.metrics_url + "/v2/health/live", timeout=10)
    assert r.status_code == 404


def test_metrics_rejects_post(mclient):
    r = mclient.post("/metrics")
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]


def test_statistics_extension_has_cache_and_batch_fields(mclient):
    assert mclient.infer("simple", simple_body()).status_code == 200
    stats = mclient.get("/v2/models/simple/stats").json()["model_stats"][0]
    for key in ("cache_hit", "cache_miss"):
        assert set(stats["inference_stats"][key]) == {"count", "ns"}
    assert isinstance(stats["batch_stats"], list)
    for entry in stats["batch_stats"]:
        assert {"batch_size", "compute_input", "compute_infer", "compute_output"} <= set(entry)
