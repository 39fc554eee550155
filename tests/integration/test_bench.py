"""`inferd bench` against the real server of the session fixture: closed-loop and open-loop
levels over HTTP (JSON and binary) and gRPC, checked through the tool's JSON output and against
the server's own statistics."""

import json
import os
import subprocess

import pytest
import requests

from conftest import inferd_binary

BENCH_TIMEOUT_S = 60


def bench_binary():
    """The `inferd bench` binary: $INFERD_BENCH_BIN, else the server binary under test."""
    return os.environ.get("INFERD_BENCH_BIN", inferd_binary())


def run_bench(tmp_path, *args, check=True):
    out = tmp_path / "bench.json"
    proc = subprocess.run([bench_binary(), "bench", "--quiet", "--warmup", "0.2",
                           "--json", str(out), *args],
                          capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    if check:
        assert proc.returncode == 0, f"inferd bench failed:\n{proc.stdout}\n{proc.stderr}"
        return json.loads(out.read_text()), proc
    return None, proc


def success_count(base_url, model):
    stats = requests.get(f"{base_url}/v2/models/{model}/stats", timeout=10).json()
    return sum(m["inference_stats"]["success"]["count"] for m in stats["model_stats"])


def check_level(level):
    assert level["ok"] > 0
    assert level["errors"] == 0
    assert level["throughput_rps"] > 0
    lat = level["latency_us"]
    assert lat["count"] == level["ok"]
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    # Throughput and the measured interval agree with the count of answers.
    assert level["throughput_rps"] == pytest.approx(level["ok"] / level["measured_s"], rel=1e-6)


def test_concurrency_sweep_over_http_json(server, tmp_path):
    before = success_count(server.base_url, "simple")
    doc, proc = run_bench(tmp_path, "--url", server.base_url, "--model", "simple",
                          "--concurrency", "1:4:x2", "--duration", "0.6")
    assert doc["protocol"] == "http" and doc["encoding"] == "json"
    assert [lvl["concurrency"] for lvl in doc["levels"]] == [1, 2, 4]
    for level in doc["levels"]:
        check_level(level)
        srv = level["server_us"]
        assert srv is not None, "the server-side breakdown is missing"
        assert srv["requests"] > 0 and srv["compute_infer"] > 0
        # The server counted (about) the requests the client saw answered in the same windows.
        assert srv["requests"] == pytest.approx(level["ok"], rel=0.25)
    # Every answer the tool counted is one the server counted as a success. (Under a loaded CI
    # machine the two counts have been seen one apart in ~8000; allow that much slack rather
    # than flake — the per-level check above already ties the counts together.)
    measured = sum(lvl["ok"] for lvl in doc["levels"])
    assert success_count(server.base_url, "simple") - before >= measured * 0.999
    assert "req/s" in proc.stdout  # the table


def test_binary_requests_and_csv_and_svg_outputs(server, tmp_path):
    csv, svg = tmp_path / "out.csv", tmp_path / "out.svg"
    doc, _ = run_bench(tmp_path, "--url", server.base_url, "--model", "simple", "--binary",
                       "--batch-size", "4", "--concurrency", "2", "--duration", "0.6",
                       "--csv", str(csv), "--svg", str(svg))
    assert doc["encoding"] == "binary" and doc["batch_size"] == 4
    check_level(doc["levels"][0])
    lines = csv.read_text().splitlines()
    assert len(lines) == 2 and lines[0].startswith("concurrency,")
    assert svg.read_text().startswith("<svg")


def test_open_loop_request_rate_is_held(server, tmp_path):
    doc, _ = run_bench(tmp_path, "--url", server.base_url, "--model", "simple",
                       "--request-rate", "200", "--arrival", "poisson", "--duration", "1.5",
                       "--max-connections", "8")
    level = doc["levels"][0]
    assert doc["mode"] == "request-rate" and level["request_rate"] == 200
    check_level(level)
    assert level["throughput_rps"] == pytest.approx(200, rel=0.3)


def test_failed_requests_are_counted_as_errors(server, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32",
                                           "shape": [1, 3], "data": [1, 2, 3]}]}))
    doc, _ = run_bench(tmp_path, "--url", server.base_url, "--model", "simple",
                       "--input-data", str(bad), "--concurrency", "1", "--duration", "0.3",
                       "--stable-windows", "1", "--max-windows", "2")
    level = doc["levels"][0]
    assert level["ok"] == 0 and level["errors"] > 0


def test_unknown_model_is_a_clean_failure(server, tmp_path):
    _, proc = run_bench(tmp_path, "--url", server.base_url, "--model", "no_such_model",
                        "--duration", "0.3", check=False)
    assert proc.returncode != 0
    assert "no_such_model" in proc.stderr or "404" in proc.stderr


def test_grpc_protocol(server, grpc_target, tmp_path):
    doc, _ = run_bench(tmp_path, "--url", grpc_target, "--protocol", "grpc", "--model", "simple",
                       "--concurrency", "1,2", "--duration", "0.6")
    assert doc["protocol"] == "grpc"
    for level in doc["levels"]:
        check_level(level)
        assert level["server_us"] is not None and level["server_us"]["requests"] > 0
