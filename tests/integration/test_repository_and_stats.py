"""Repository extension (index, explicit load/unload) and the statistics extension, each on its
own server over a private copy of the test repository so that unloading cannot disturb others."""

import json
import shutil

import numpy as np
import pytest
import requests

from conftest import start_server, stop_server
from kserve_v2 import error_message, json_input


@pytest.fixture()
def own_server(model_repo, tmp_path):
    repo = tmp_path / "repo"
    for name in ("simple", "versioned", "broken"):
        shutil.copytree(model_repo / name, repo / name)
    srv = start_server(repo, tmp_path, ["--model-control-mode", "explicit", "--load-model", "*"])
    yield srv
    stop_server(srv)


def simple_request(batch=1):
    a = np.arange(16 * batch, dtype=np.float32).reshape(batch, 16)
    return {"inputs": [json_input("INPUT0", "FP32", a), json_input("INPUT1", "FP32", a)]}


def infer_simple(url, batch=1):
    return requests.post(f"{url}/v2/models/simple/infer", json=simple_request(batch), timeout=10)


def index(url, **body):
    r = requests.post(f"{url}/v2/repository/index", json=body, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def test_index_lists_every_version_with_state_and_reason(own_server):
    entries = index(own_server.base_url)
    by_key = {(e["name"], e.get("version")): e for e in entries}
    assert by_key[("simple", "1")]["state"] == "READY"
    assert by_key[("versioned", "1")]["state"] == "READY"
    assert by_key[("versioned", "3")]["state"] == "READY"
    assert ("versioned", "2") not in by_key
    broken = by_key[("broken", "1")]
    assert broken["state"] == "UNAVAILABLE"
    assert "model.onnx" in broken["reason"]


def test_index_with_ready_true_lists_only_ready_versions(own_server):
    entries = index(own_server.base_url, ready=True)
    assert {e["name"] for e in entries} == {"simple", "versioned"}
    assert all(e["state"] == "READY" for e in entries)


def test_unload_stops_serving_and_load_brings_the_model_back(own_server):
    url = own_server.base_url
    assert infer_simple(url).status_code == 200
    r = requests.post(f"{url}/v2/repository/models/simple/unload", timeout=30)
    assert r.status_code == 200, r.text
    assert requests.get(f"{url}/v2/models/simple/ready", timeout=10).status_code == 400
    r = infer_simple(url)
    assert r.status_code == 503 and "simple" in error_message(r)
    assert [e["reason"] for e in index(url) if e["name"] == "simple"] == ["unloaded"]
    # The other models keep serving.
    assert requests.get(f"{url}/v2/models/versioned/ready", timeout=10).status_code == 200

    r = requests.post(f"{url}/v2/repository/models/simple/load", timeout=60)
    assert r.status_code == 200, r.text
    assert requests.get(f"{url}/v2/models/simple/ready", timeout=10).status_code == 200
    assert infer_simple(url).status_code == 200


def test_loading_an_unknown_model_is_not_found(own_server):
    r = requests.post(f"{own_server.base_url}/v2/repository/models/nope/load", timeout=10)
    assert r.status_code == 404
    assert "nope" in error_message(r)


def test_a_failed_reload_keeps_the_old_version_serving(own_server):
    url = own_server.base_url
    model_file = own_server.repo / "simple" / "1" / "model.onnx"
    model_file.write_bytes(b"corrupted on disk")
    r = requests.post(f"{url}/v2/repository/models/simple/load", timeout=60)
    assert r.status_code == 400
    assert "simple" in error_message(r)
    assert infer_simple(url).status_code == 200


def test_load_of_a_broken_model_reports_why(own_server):
    r = requests.post(f"{own_server.base_url}/v2/repository/models/broken/load", timeout=60)
    assert r.status_code == 400
    assert "broken" in error_message(r)


def test_repository_control_takes_post_only(own_server):
    r = requests.get(f"{own_server.base_url}/v2/repository/models/simple/load", timeout=10)
    assert r.status_code == 405


def stats(url, path="/v2/models/simple/stats"):
    r = requests.get(url + path, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()["model_stats"]


def test_statistics_count_successes_rows_and_failures(own_server):
    url = own_server.base_url
    before = stats(url)[0]
    assert before["name"] == "simple" and before["version"] == "1"
    for batch in (1, 3, 2):
        assert infer_simple(url, batch).status_code == 200
    bad = {"inputs": [json_input("INPUT0", "FP32", np.zeros((1, 16), np.float32))]}
    assert requests.post(f"{url}/v2/models/simple/infer", json=bad, timeout=10).status_code == 400
    after = stats(url)[0]
    s0, s1 = before["inference_stats"], after["inference_stats"]
    assert s1["success"]["count"] - s0["success"]["count"] == 3
    assert s1["fail"]["count"] - s0["fail"]["count"] == 1
    assert after["inference_count"] - before["inference_count"] == 6
    assert after["execution_count"] - before["execution_count"] == 3
    for stage in ("queue", "compute_input", "compute_infer", "compute_output"):
        assert s1[stage]["count"] - s0[stage]["count"] == 3
    assert s1["compute_infer"]["ns"] > s0["compute_infer"]["ns"]
    assert after["last_inference"] > 0


def test_statistics_of_all_models_and_of_one_version(own_server):
    url = own_server.base_url
    names = {(s["name"], s["version"]) for s in stats(url, "/v2/models/stats")}
    assert {("simple", "1"), ("versioned", "1"), ("versioned", "3")} <= names
    only_v3 = stats(url, "/v2/models/versioned/versions/3/stats")
    assert [(s["name"], s["version"]) for s in only_v3] == [("versioned", "3")]


def test_statistics_of_an_unknown_model_are_not_found(own_server):
    r = requests.get(f"{own_server.base_url}/v2/models/nope/stats", timeout=10)
    assert r.status_code == 404


def test_load_and_unload_are_refused_outside_explicit_mode(model_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(model_repo / "simple", repo / "simple")
    srv = start_server(repo, tmp_path)  # default control mode: none
    try:
        for action in ("load", "unload"):
            r = requests.post(f"{srv.base_url}/v2/repository/models/simple/{action}", timeout=10)
            assert r.status_code == 503
            assert "explicit" in error_message(r)
        assert infer_simple(srv.base_url).status_code == 200
    finally:
        stop_server(srv)


def test_load_with_a_config_override_replaces_config_pbtxt(own_server):
    url = own_server.base_url
    override = json.dumps({"max_batch_size": 2})
    r = requests.post(f"{url}/v2/repository/models/simple/load",
                      json={"parameters": {"config": override}}, timeout=60)
    assert r.status_code == 200, r.text
    config = requests.get(f"{url}/v2/models/simple/config", timeout=10).json()
    assert config["max_batch_size"] == 2
    assert [i["name"] for i in config["input"]] == ["INPUT0", "INPUT1"]  # auto-completed
    assert infer_simple(url, 2).status_code == 200
    r = infer_simple(url, 3)
    assert r.status_code == 400 and "max_batch_size" in error_message(r)


def test_a_malformed_config_override_is_rejected_and_the_model_keeps_serving(own_server):
    url = own_server.base_url
    r = requests.post(f"{url}/v2/repository/models/simple/load",
                      json={"parameters": {"config": "{\"max_batch_size\": \"many\"}"}},
                      timeout=60)
    assert r.status_code == 400
    assert "config" in error_message(r)
    assert infer_simple(url).status_code == 200
