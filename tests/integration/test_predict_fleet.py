"""`inferd predict --url`: batches sent to a fleet of servers, retried past a dead one, and
`--shard I/N` (docs/batch.md)."""

import json
import socket

import numpy as np
import pytest

from conftest import start_server, stop_server
from predict_helpers import mlp_rows, predict, read_jsonl, write_jsonl


@pytest.fixture(scope="module")
def fleet(model_repo, tmp_path_factory):
    servers = [start_server(model_repo, tmp_path_factory.mktemp(f"fleet{i}"),
                            ["--model-control-mode", "explicit", "--load-model", "mlp"])
               for i in range(2)]
    yield servers
    for srv in servers:
        stop_server(srv)


def dead_url():
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_a_fleet_scores_what_in_process_scores_past_a_dead_server(model_repo, fleet, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", mlp_rows(2000))
    # Many small blocks: the servers' workers share one queue, so with a handful of blocks the
    # first worker to start could take them all.
    common = ["--model", "mlp", "--input", tmp_path / "in.jsonl", "--block-rows", 10,
              "--classification", 3, "--outputs", "probabilities"]
    predict("--model-repository", model_repo, *common, "--output", tmp_path / "local.jsonl")
    urls = [a for srv in fleet for a in ("--url", srv.base_url)]
    proc = predict(*urls, "--url", dead_url(), "--retries", 5, *common,
                   "--output", tmp_path / "fleet.jsonl")
    assert "2000 rows scored, 0 failed" in proc.stderr
    local, remote = read_jsonl(tmp_path / "local.jsonl"), read_jsonl(tmp_path / "fleet.jsonl")
    assert [[c.split(":", 1)[1] for c in r["probabilities"]] for r in remote] == \
        [[c.split(":", 1)[1] for c in r["probabilities"]] for r in local]
    counts = [srv_stats(srv) for srv in fleet]
    assert sum(counts) >= 2000 and min(counts) > 0, counts  # both servers took blocks


def srv_stats(srv):
    import requests
    r = requests.get(srv.base_url + "/v2/models/mlp/stats", timeout=10)
    return r.json()["model_stats"][0]["inference_count"]


def test_a_fleet_over_grpc_scores_what_in_process_scores(model_repo, fleet, tmp_path):
    np.save(tmp_path / "in.npy", mlp_rows(300))
    common = ["--model", "mlp", "--input", tmp_path / "in.npy", "--block-rows", 64,
              "--outputs", "logits"]
    predict("--model-repository", model_repo, *common, "--output", tmp_path / "local.npy")
    targets = [a for srv in fleet for a in ("--url", srv.grpc_target)]
    predict(*targets, "--protocol", "grpc", *common, "--output", tmp_path / "grpc.npy")
    np.testing.assert_allclose(np.load(tmp_path / "grpc.npy"), np.load(tmp_path / "local.npy"),
                               rtol=1e-5, atol=1e-6)


def test_bad_rows_sent_to_a_fleet_are_found(fleet, tmp_path):
    rows = mlp_rows(3)
    lines = [json.dumps({"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32",
                                     "data": rows[0].tolist()}]}),
             json.dumps({"inputs": [{"name": "input", "shape": [1, 63], "datatype": "FP32",
                                     "data": rows[1].tolist()[:63]}]}),
             json.dumps({"input": rows[2].tolist()})]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    predict("--url", fleet[0].base_url, "--model", "mlp", "--input", tmp_path / "in.jsonl",
            "--output", tmp_path / "out.jsonl", check_rc=2)
    assert len(read_jsonl(tmp_path / "out.jsonl")) == 2
    errors = read_jsonl(tmp_path / "out.jsonl.errors.jsonl")
    assert [e["line"] for e in errors] == [2] and "HTTP 400" in errors[0]["error"]


def test_shards_split_the_blocks_between_them(model_repo, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", mlp_rows(45))
    common = ["--model-repository", model_repo, "--model", "mlp", "--input",
              tmp_path / "in.jsonl", "--block-rows", 10, "--outputs", "logits"]
    predict(*common, "--output", tmp_path / "all.jsonl")
    whole = (tmp_path / "all.jsonl").read_text().splitlines()
    for shard in (0, 1):
        predict(*common, "--shard", f"{shard}/2", "--output", tmp_path / f"s{shard}.jsonl")
        got = (tmp_path / f"s{shard}.jsonl").read_text().splitlines()
        want = [line for i, line in enumerate(whole) if (i // 10) % 2 == shard]
        assert got == want


def test_npz_shards_hold_the_interleaved_blocks_of_the_whole(model_repo, tmp_path):
    np.save(tmp_path / "in.npy", mlp_rows(45))
    common = ["--model-repository", model_repo, "--model", "mlp", "--input",
              tmp_path / "in.npy", "--block-rows", 10]
    predict(*common, "--output", tmp_path / "all.npz")
    for shard in (0, 1):
        predict(*common, "--shard", f"{shard}/2", "--output", tmp_path / f"s{shard}.npz")
    with np.load(tmp_path / "all.npz") as whole:
        for shard in (0, 1):
            with np.load(tmp_path / f"s{shard}.npz") as part:
                assert part.files == whole.files
                for name in whole.files:
                    want = [row for i, row in enumerate(whole[name]) if (i // 10) % 2 == shard]
                    np.testing.assert_array_equal(part[name], np.array(want))
