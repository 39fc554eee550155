"""`inferd tune` against a real server (#16): a tiny sweep loads each configuration through the
repository load API, measures it with the bench engine, and writes the best config.pbtxt, a
table and an SVG frontier; the model's own config is back in force afterwards."""

import subprocess

import onnx
import pytest
import requests

from conftest import inferd_binary, start_server, stop_server
from test_optimize_loop import dense_model


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    repo = tmp_path_factory.mktemp("tune-repo")
    (repo / "dense" / "1").mkdir(parents=True)
    onnx.save(dense_model(), str(repo / "dense" / "1" / "model.onnx"))
    (repo / "dense" / "config.pbtxt").write_text(
        'name: "dense"\nbackend: "onnxruntime"\nmax_batch_size: 8\n')
    s = start_server(repo, tmp_path_factory.mktemp("tune-log"),
                     ["--model-control-mode", "explicit", "--load-model", "dense"])
    yield s
    stop_server(s)


def tune(srv, *args):
    return subprocess.run([inferd_binary(), "tune", *map(str, args), "--url", srv.base_url],
                          capture_output=True, text=True, timeout=120)


def test_a_tiny_sweep_writes_the_best_config_table_and_frontier(srv, tmp_path):
    done = tune(srv, "dense", "--out", tmp_path, "--instances", "1,2", "--threads", "1",
                "--max-batch", "0,4", "--queue-delay-us", "0", "--concurrency", "2",
                "--duration", "0.4", "--warmup", "0.1")
    assert done.returncode == 0, done.stderr
    # Progress: plain lines (no TTY), one per configuration loaded.
    assert done.stderr.count(": loading") == 4, done.stderr
    assert "[4/4] instances 2 threads 1 max batch 4" in done.stderr
    table = (tmp_path / "tune.txt").read_text()
    assert len(table.strip().splitlines()) == 5 and "<- best" in table, table
    assert "failed" not in table, table
    config = (tmp_path / "config.pbtxt").read_text()
    assert "instance_group" in config and "intra_op_thread_count" in config, config
    assert (tmp_path / "frontier.svg").read_text().startswith("<svg")
    # The server is back on the model's own config.pbtxt.
    served = requests.get(f"{srv.base_url}/v2/models/dense/config", timeout=10).json()
    assert served["max_batch_size"] == 8
    assert "intra_op_thread_count" not in served.get("parameters", {})


def test_an_unknown_model_is_named(srv, tmp_path):
    done = tune(srv, "nope", "--out", tmp_path)
    assert done.returncode == 1
    assert "model config" in done.stderr and "nope" in done.stderr


def test_keep_best_leaves_the_best_configuration_loaded(srv, tmp_path):
    done = tune(srv, "dense", "--out", tmp_path, "--instances", "1", "--threads", "1",
                "--max-batch", "0,4", "--queue-delay-us", "0", "--concurrency", "2",
                "--duration", "0.4", "--warmup", "0.1", "--keep-best")
    try:
        assert done.returncode == 0, done.stderr
        best = (tmp_path / "config.pbtxt").read_text()
        served = requests.get(f"{srv.base_url}/v2/models/dense/config", timeout=10).json()
        # The chosen point is served, not the model's own config.pbtxt (max batch 8, no threads).
        assert served["parameters"]["intra_op_thread_count"]["string_value"] == "1", served
        assert served.get("max_batch_size", 0) in (0, 4), served
        assert f"max_batch_size: {served['max_batch_size']}" in best or (
            served.get("max_batch_size", 0) == 0 and "max_batch_size" not in best), best
    finally:
        requests.post(f"{srv.base_url}/v2/repository/models/dense/load", json={}, timeout=60)
