"""Model lifecycle on the real server: poll mode, reload under load, canary routing and
rollback, scale to zero with on-demand reload, lazy loading, LRU eviction under a memory budget,
and memory released on unload. Each test runs its own server over its own repository."""

import concurrent.futures
import importlib.util
import pathlib
import threading
import time

import numpy as np
import onnx
import pytest
import requests
from onnx import TensorProto, helper, numpy_helper

from conftest import REPO_ROOT, start_server, stop_server
from kserve_v2 import error_message, json_input

_spec = importlib.util.spec_from_file_location("make_models",
                                               REPO_ROOT / "scripts" / "make_models.py")
make_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_models)

EXPLICIT = ["--model-control-mode", "explicit", "--load-model", "*"]


def write_add_model(repo, name, versions, config_extra=""):
    """Versions of `name` where version v computes y = x + v, with a config."""
    for v in versions:
        path = repo / name / str(v) / "model.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(make_models.add_constant_model(name, float(v)), str(path))
    (repo / name / "config.pbtxt").write_text(
        f'name: "{name}"\nmax_batch_size: 8\n'
        'input { name: "x" data_type: TYPE_FP32 dims: [ 4 ] }\n'
        'output { name: "y" data_type: TYPE_FP32 dims: [ 4 ] }\n' + config_extra)


def add_request():
    return {"inputs": [json_input("x", "FP32", np.zeros((1, 4), np.float32))]}


def infer(url, name, session=None, timeout=30):
    s = session or requests
    return s.post(f"{url}/v2/models/{name}/infer", json=add_request(), timeout=timeout)


def answered_version(r):
    """(model_version, the constant the model added) of a successful response."""
    assert r.status_code == 200, r.text
    body = r.json()
    return int(body["model_version"]), body["outputs"][0]["data"][0]


def index(url):
    r = requests.post(f"{url}/v2/repository/index", json={}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def wait_until(predicate, timeout_s=15.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture()
def repo(tmp_path):
    path = tmp_path / "repo"
    path.mkdir()
    return path


def test_poll_mode_loads_reloads_and_unloads_what_changes_on_disk(repo, tmp_path):
    write_add_model(repo, "m", [1])
    srv = start_server(repo, tmp_path, ["--model-control-mode", "poll",
                                        "--repository-poll-secs", "1"])
    try:
        url = srv.base_url
        assert answered_version(infer(url, "m")) == (1, 1.0)
        write_add_model(repo, "n", [1])
        wait_until(lambda: infer(url, "n").status_code == 200, what="new model n")
        write_add_model(repo, "m", [2])  # a new version: latest policy moves to it
        wait_until(lambda: answered_version(infer(url, "m"))[0] == 2, what="m version 2")
        import shutil
        shutil.rmtree(repo / "n")
        wait_until(lambda: infer(url, "n").status_code == 503, what="n unloaded")
        # Load/unload requests are refused in poll mode, as in Triton.
        r = requests.post(f"{url}/v2/repository/models/m/unload", timeout=10)
        assert r.status_code == 503
    finally:
        stop_server(srv)


def test_reloads_under_continuous_load_fail_no_request(repo, tmp_path):
    write_add_model(repo, "m", [1])
    srv = start_server(repo, tmp_path, EXPLICIT)
    url = srv.base_url
    stop = threading.Event()
    failures, successes = [], [0]

    def client():
        with requests.Session() as s:
            while not stop.is_set():
                r = infer(url, "m", session=s)
                if r.status_code == 200:
                    successes[0] += 1
                else:
                    failures.append((r.status_code, r.text))

    try:
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        for i in range(5):
            # Touch the files so every reload really builds new sessions and swaps.
            write_add_model(repo, "m", [1])
            r = requests.post(f"{url}/v2/repository/models/m/load", timeout=60)
            assert r.status_code == 200, r.text
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        assert failures == [], failures[:3]
        assert successes[0] > 20
    finally:
        stop.set()
        stop_server(srv)


def test_a_canary_split_sends_each_version_its_share_and_rollback_pins_the_previous(
        repo, tmp_path):
    write_add_model(repo, "m", [1, 2, 3], "version_policy: { all: {} }\n")
    srv = start_server(repo, tmp_path, EXPLICIT)
    url = srv.base_url
    try:
        r = requests.post(f"{url}/v2/repository/models/m/routing",
                          json={"policy": "weighted:2=90,3=10"}, timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["routing"] == "weighted:2=90,3=10"
        counts = {1: 0, 2: 0, 3: 0}
        with requests.Session() as s:
            for _ in range(1000):
                version, added = answered_version(infer(url, "m", session=s))
                assert added == float(version)  # the version named is the one that ran
                counts[version] += 1
        assert counts[1] == 0
        # Binomial(1000, 0.1): sd ~9.5; allow 4.5 sd.
        assert 57 <= counts[3] <= 143, counts

        r = requests.post(f"{url}/v2/repository/models/m/rollback", timeout=10)
        assert r.status_code == 200, r.text
        assert r.json()["routing"] == "pinned:2"
        for _ in range(20):
            assert answered_version(infer(url, "m"))[0] == 2
        assert {e["routing"] for e in index(url) if e["name"] == "m"} == {"pinned:2"}

        r = requests.post(f"{url}/v2/repository/models/m/routing",
                          json={"policy": "pinned:9"}, timeout=10)
        assert r.status_code == 400 and "9" in error_message(r)
        r = requests.post(f"{url}/v2/repository/models/m/routing", json={"policy": "best"},
                          timeout=10)
        assert r.status_code == 400
        # An explicit version in the URL ignores the routing policy.
        r = requests.post(f"{url}/v2/models/m/versions/3/infer", json=add_request(), timeout=10)
        assert answered_version(r)[0] == 3
    finally:
        stop_server(srv)


def test_an_idle_model_scales_to_zero_and_its_next_request_loads_it(repo, tmp_path):
    write_add_model(repo, "m", [1],
                    'parameters { key: "idle_unload_seconds" value { string_value: "1" } }\n')
    srv = start_server(repo, tmp_path)
    url = srv.base_url
    try:
        assert infer(url, "m").status_code == 200
        wait_until(lambda: requests.get(f"{url}/v2/models/m/ready", timeout=5).status_code == 400,
                   timeout_s=10, what="scale to zero")
        assert any("idle" in e["reason"] for e in index(url) if e["name"] == "m")
        started = time.monotonic()
        r = infer(url, "m")  # waits for the load instead of failing
        cold = time.monotonic() - started
        assert answered_version(r) == (1, 1.0)
        entry = next(e for e in index(url) if e["name"] == "m")
        assert entry["state"] == "READY"
        assert entry["load_seconds"] > 0
        assert entry["first_response_us"] > 0
        print(f"cold start after scale to zero: {cold * 1000:.1f} ms request, "
              f"{entry['load_seconds'] * 1000:.1f} ms load")
    finally:
        stop_server(srv)


def test_lazy_loading_loads_models_on_their_first_request(repo, tmp_path):
    write_add_model(repo, "a", [1])
    write_add_model(repo, "b", [1])
    srv = start_server(repo, tmp_path, ["--model-control-mode", "explicit", "--lazy-load"])
    url = srv.base_url
    try:
        # Listed as Triton lists models on disk that were never loaded: no state, no version.
        assert [(e["name"], e["state"]) for e in index(url)] == [("a", ""), ("b", "")]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(lambda _: infer(url, "a"), range(8)))
        assert all(r.status_code == 200 for r in responses)
        # One load served all eight: a single READY version of a; b still never loaded.
        assert [(e["name"], e.get("version"), e["state"]) for e in index(url)] == [
            ("a", "1", "READY"), ("b", None, "")]
        assert infer(url, "missing").status_code == 404
    finally:
        stop_server(srv)


def test_the_memory_budget_evicts_the_least_recently_used_model(repo, tmp_path):
    for name in ("a", "b", "c"):
        write_add_model(repo, name, [1])
    one = (repo / "a" / "1" / "model.onnx").stat().st_size
    srv = start_server(repo, tmp_path, ["--model-control-mode", "explicit", "--lazy-load",
                                        "--model-memory-budget", str(2 * one + one // 2)])
    url = srv.base_url
    try:
        assert infer(url, "a").status_code == 200
        assert infer(url, "b").status_code == 200
        assert infer(url, "a").status_code == 200  # a is now more recent than b
        assert infer(url, "c").status_code == 200  # needs room: b goes
        states = {e["name"]: (e["state"], e["reason"]) for e in index(url)}
        assert states["a"][0] == "READY" and states["c"][0] == "READY"
        assert states["b"][0] == "UNAVAILABLE" and "evicted" in states["b"][1]
        assert infer(url, "b").status_code == 200  # comes back on demand, evicting a
        states = {e["name"]: e["state"] for e in index(url)}
        assert states["a"] == "UNAVAILABLE" and states["b"] == "READY"
    finally:
        stop_server(srv)


def rss_bytes(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_unloading_a_large_model_returns_memory_to_the_os(repo, tmp_path):
    # 256 MiB of FP32 weights: y = x @ W for x [batch, 4096], W [4096, 16384].
    w = np.full((4096, 16384), 0.5, dtype=np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "big",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4096])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 16384])],
        initializer=[numpy_helper.from_array(w, "W")])
    model = make_models.make_model(graph)
    (repo / "big" / "1").mkdir(parents=True)
    onnx.save(model, str(repo / "big" / "1" / "model.onnx"))
    del w, model
    write_add_model(repo, "small", [1])
    srv = start_server(repo, tmp_path, ["--model-control-mode", "explicit",
                                        "--load-model", "small"])
    url = srv.base_url
    pid = srv.proc.pid
    try:
        assert infer(url, "small").status_code == 200
        baseline = rss_bytes(pid)
        r = requests.post(f"{url}/v2/repository/models/big/load", timeout=120)
        assert r.status_code == 200, r.text
        loaded = rss_bytes(pid)
        assert loaded - baseline > 200 << 20, (baseline, loaded)
        r = requests.post(f"{url}/v2/repository/models/big/unload", timeout=60)
        assert r.status_code == 200
        wait_until(lambda: rss_bytes(pid) - baseline < 32 << 20, timeout_s=10,
                   what=f"RSS back near its baseline of {baseline >> 20} MiB "
                        f"(it was {loaded >> 20} MiB loaded)")
    finally:
        stop_server(srv)
