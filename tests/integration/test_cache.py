"""Response cache (--cache-size, response_cache { enable: true }): hits skip the scheduler, the
key covers shapes, datatypes and the output form, errors are never cached, LRU eviction keeps
the byte budget, and the per-model and global metrics count it all."""

import json
import shutil
import struct
import uuid

import pytest

from conftest import Client, start_server, stop_server
from test_metrics import scrape, value

CACHED_CONFIG = """\
name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input {{ name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] }}
output {{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] }}
{extra}
"""


def make_cache_repo(model_repo, root):
    """cached: identity with the cache on; uncached: the same model without it."""
    for name, extra in (("cached", "response_cache { enable: true }"), ("uncached", "")):
        (root / name / "1").mkdir(parents=True)
        shutil.copy(model_repo / "identity_fp32" / "1" / "model.onnx", root / name / "1")
        (root / name / "config.pbtxt").write_text(CACHED_CONFIG.format(name=name, extra=extra))
    return root


@pytest.fixture(scope="module")
def cache_server(model_repo, tmp_path_factory):
    repo = make_cache_repo(model_repo, tmp_path_factory.mktemp("cache_models"))
    srv = start_server(repo, tmp_path_factory.mktemp("cache_log"), ["--cache-size", "1048576"])
    yield srv
    stop_server(srv)


@pytest.fixture
def cclient(cache_server):
    c = Client(cache_server.base_url)
    yield c
    c.session.close()


def unique_values(n):
    """Values no other test sends, so every test starts with a cold key."""
    seed = uuid.uuid4().int % 100000
    return [float(seed) + i / 8 for i in range(n)]


def body(values, shape, **output_params):
    b = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": shape, "data": values}]}
    if output_params:
        b["outputs"] = [{"name": "OUTPUT0", "parameters": output_params}]
    return b


def stats_of(client, model):
    return client.get(f"/v2/models/{model}/stats").json()["model_stats"][0]


def test_a_repeated_request_is_answered_from_the_cache(cclient):
    values = unique_values(4)
    before = scrape(cclient)
    stats_before = stats_of(cclient, "cached")
    first = cclient.infer("cached", dict(body(values, [1, 4]), id="a"))
    second = cclient.infer("cached", dict(body(values, [1, 4]), id="b"))
    assert first.status_code == 200 and second.status_code == 200
    assert second.json()["outputs"] == first.json()["outputs"]
    assert second.json()["id"] == "b"  # the id is the asking request's, not the cached one
    assert second.json()["model_version"] == "1"
    after = scrape(cclient)
    stats_after = stats_of(cclient, "cached")
    m = {"model": "cached", "version": 1}

    def delta(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("nv_cache_num_hits_per_model", **m) == 1
    assert delta("nv_cache_num_misses_per_model", **m) == 1
    assert delta("nv_inference_request_success", **m) == 2
    # The hit never reached the scheduler: one inference, one execution.
    assert delta("nv_inference_count", **m) == 1
    assert delta("nv_inference_exec_count", **m) == 1
    assert delta("nv_cache_num_hits") == 1
    assert delta("nv_cache_num_misses") == 1
    assert delta("nv_cache_num_lookups") == 2
    assert delta("inferd_cache_insertions_total") == 1
    hit = stats_after["inference_stats"]["cache_hit"]
    assert hit["count"] - stats_before["inference_stats"]["cache_hit"]["count"] == 1
    assert hit["ns"] > stats_before["inference_stats"]["cache_hit"]["ns"]
    assert (stats_after["inference_stats"]["cache_miss"]["count"]
            - stats_before["inference_stats"]["cache_miss"]["count"]) == 1


def test_same_bytes_with_another_shape_is_a_miss(cclient):
    values = unique_values(4)
    before = scrape(cclient)
    flat = cclient.infer("cached", body(values, [1, 4]))
    square = cclient.infer("cached", body(values, [2, 2]))
    assert flat.status_code == 200 and square.status_code == 200
    assert flat.json()["outputs"][0]["shape"] == [1, 4]
    assert square.json()["outputs"][0]["shape"] == [2, 2]
    after = scrape(cclient)
    m = {"model": "cached", "version": 1}
    assert (value(after, "nv_cache_num_misses_per_model", **m)
            - value(before, "nv_cache_num_misses_per_model", **m)) == 2
    assert (value(after, "nv_cache_num_hits_per_model", **m)
            - value(before, "nv_cache_num_hits_per_model", **m)) == 0


def test_binary_and_json_output_forms_are_cached_apart(cclient):
    values = unique_values(4)
    before = scrape(cclient)
    as_json = cclient.infer("cached", body(values, [1, 4], binary_data=False))
    as_binary = cclient.infer("cached", body(values, [1, 4], binary_data=True))
    again_binary = cclient.infer("cached", body(values, [1, 4], binary_data=True))
    assert as_json.headers["Content-Type"] == "application/json"
    assert as_json.json()["outputs"][0]["data"] == values
    for r in (as_binary, again_binary):
        assert r.headers["Content-Type"] == "application/octet-stream"
        header_len = int(r.headers["Inference-Header-Content-Length"])
        header = json.loads(r.content[:header_len])
        assert header["outputs"][0]["parameters"]["binary_data_size"] == 16
        assert list(struct.unpack("<4f", r.content[header_len:])) == values
    after = scrape(cclient)
    m = {"model": "cached", "version": 1}
    assert (value(after, "nv_cache_num_misses_per_model", **m)
            - value(before, "nv_cache_num_misses_per_model", **m)) == 2
    assert (value(after, "nv_cache_num_hits_per_model", **m)
            - value(before, "nv_cache_num_hits_per_model", **m)) == 1


def test_errors_are_never_cached(cclient):
    bad = body(unique_values(4), [1, 4])
    bad["inputs"][0]["datatype"] = "INT32"
    bad["inputs"][0]["data"] = [1, 2, 3, 4]
    before = scrape(cclient)
    for _ in range(2):
        assert cclient.infer("cached", bad).status_code == 400
    after = scrape(cclient)
    assert value(after, "inferd_cache_insertions_total") == value(
        before, "inferd_cache_insertions_total")
    assert value(after, "nv_cache_num_hits") == value(before, "nv_cache_num_hits")
    assert (value(after, "nv_inference_request_failure", model="cached", version=1, reason="OTHER")
            - value(before, "nv_inference_request_failure", model="cached", version=1,
                    reason="OTHER")) == 2


def test_a_model_without_response_cache_is_never_looked_up(cclient):
    values = unique_values(4)
    before = scrape(cclient)
    for _ in range(2):
        assert cclient.infer("uncached", body(values, [1, 4])).status_code == 200
    after = scrape(cclient)
    assert value(after, "nv_cache_num_lookups") == value(before, "nv_cache_num_lookups")
    m = {"model": "uncached", "version": 1}
    assert value(after, "nv_inference_exec_count", **m) - value(
        before, "nv_inference_exec_count", **m) == 2


def test_lru_eviction_keeps_the_byte_budget(model_repo, tmp_path):
    repo = make_cache_repo(model_repo, tmp_path / "models")
    budget = 8192  # room for a few 1 KiB answers
    srv = start_server(repo, tmp_path, ["--cache-size", str(budget)])
    client = Client(srv.base_url)
    try:
        requests_ = [body([float(i)] * 256, [1, 256]) for i in range(12)]
        for b in requests_:
            assert client.infer("cached", b).status_code == 200
        samples = scrape(client)
        assert value(samples, "nv_cache_num_evictions") > 0
        assert value(samples, "inferd_cache_used_bytes") <= budget
        assert value(samples, "inferd_cache_capacity_bytes") == budget
        entries = value(samples, "nv_cache_num_entries")
        assert 1 <= entries < 12
        hits = value(samples, "nv_cache_num_hits")
        assert client.infer("cached", requests_[-1]).status_code == 200  # most recent: kept
        assert client.infer("cached", requests_[0]).status_code == 200   # oldest: evicted
        samples = scrape(client)
        assert value(samples, "nv_cache_num_hits") == hits + 1
    finally:
        client.session.close()
        stop_server(srv)
