"""One CPU budget for the whole server (--cpu-threads; docs/scheduling.md, "CPU budget"): the
engines of every loaded model share one thread pool, a model with nothing to do holds no thread,
and so six models on two cores still fit in 16 threads — and each of them answers."""

import shutil
import time

import requests

from conftest import start_server, stop_server

TIMEOUT_S = 20
# Six models: batched and unbatched, ONNX with one and with two inputs, and BYTES.
MODELS = {
    "mlp": ("mlp", {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 64],
                                "data": [0.5] * 64}]}),
    "mlp_b": ("mlp", {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 64],
                                  "data": [0.25] * 64}]}),
    "simple": ("simple", {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [1, 16], "data": list(range(16))},
        {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": [1] * 16}]}),
    "simple_b": ("simple", {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [1, 16], "data": list(range(16))},
        {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": [2] * 16}]}),
    "text_upper": ("text_upper", {"inputs": [{"name": "text", "datatype": "BYTES",
                                              "shape": [1, 2], "data": ["a", "b"]}]}),
    "identity_fp32": ("identity_fp32", {"inputs": [{"name": "INPUT0", "datatype": "FP32",
                                                    "shape": [1, 4], "data": [1, 2, 3, 4]}]}),
}


def repository(model_repo, root, names):
    for name in names:
        source, _ = MODELS[name]
        shutil.copytree(model_repo / source, root / name)
        cfg = root / name / "config.pbtxt"
        if cfg.exists():
            cfg.write_text(cfg.read_text().replace(f'name: "{source}"', f'name: "{name}"'))
    return root


def threads(srv):
    return int(open(f"/proc/{srv.proc.pid}/status").read().split("Threads:")[1].split()[0])


def settle(srv, at_most_s=10):
    """The thread count once workers idle out (they end after 2 s without work)."""
    deadline = time.monotonic() + at_most_s
    count = threads(srv)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = threads(srv)
        if now == count and now <= 16:
            return now
        count = now
    return count


def infer_each(srv, names):
    for name in names:
        _, body = MODELS[name]
        r = requests.post(f"{srv.base_url}/v2/models/{name}/infer", json=body, timeout=TIMEOUT_S)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["outputs"], name


def test_six_models_on_two_cores_fit_in_sixteen_threads_and_each_answers(model_repo, tmp_path):
    names = list(MODELS)
    repo = repository(model_repo, tmp_path / "six", names)
    srv = start_server(repo, tmp_path, ["--cpu-threads", "2"])
    try:
        infer_each(srv, names)
        infer_each(srv, names)
        count = settle(srv)
        assert count <= 16, f"{count} threads with six models on a budget of 2"
        metrics = requests.get(f"{srv.base_url}/metrics", timeout=TIMEOUT_S).text
        assert "inferd_cpu_budget_threads 2" in metrics
        assert "inferd_process_threads " in metrics
        log = srv.log_path.read_text()
        assert "CPU budget: 2 thread(s)" in log
        assert "one intra-op pool of 2 thread(s) shared by every session" in log
        infer_each(srv, names)  # workers come back for new work
    finally:
        stop_server(srv)


def test_more_models_add_no_idle_threads(model_repo, tmp_path):
    one = start_server(repository(model_repo, tmp_path / "one", ["mlp"]), tmp_path / "one",
                       ["--cpu-threads", "2"])
    try:
        infer_each(one, ["mlp"])
        with_one = settle(one)
    finally:
        stop_server(one)
    names = list(MODELS)
    six = start_server(repository(model_repo, tmp_path / "six", names), tmp_path / "six",
                       ["--cpu-threads", "2"])
    try:
        infer_each(six, names)
        with_six = settle(six)
    finally:
        stop_server(six)
    # gRPC's own pool may differ by a thread between two processes.
    assert with_six <= with_one + 1, (with_one, with_six)


def test_a_model_asking_for_its_own_threads_gets_a_pool_of_its_own(model_repo, tmp_path):
    counts = {}
    for mode in ("shared", "own"):
        repo = repository(model_repo, tmp_path / mode, ["mlp"])
        if mode == "own":
            cfg = repo / "mlp" / "config.pbtxt"
            cfg.write_text(cfg.read_text() + '\nparameters { key: "intra_op_thread_count" '
                           'value { string_value: "4" } }\n')
        # gRPC off: its own threads vary by one or two between processes, the pool does not.
        srv = start_server(repo, tmp_path / mode, ["--cpu-threads", "1", "--grpc-port", "0"])
        try:
            infer_each(srv, ["mlp"])
            counts[mode] = settle(srv)
            assert "one intra-op pool of 1 thread(s)" in srv.log_path.read_text()
        finally:
            stop_server(srv)
    # ONNX Runtime's pool of 4 for that session: 3 threads besides the caller.
    assert counts["own"] >= counts["shared"] + 2, counts


def test_bad_backend_config_stops_the_server_with_a_clear_message(model_repo, tmp_path):
    import subprocess
    from conftest import inferd_binary
    for args, expected in (
            (["--backend-config", "nonsense"], "--backend-config 'nonsense'"),
            (["--backend-config", "tensorflow,x=1"], "backend 'tensorflow'"),
            (["--backend-config", "default-max-batch-size=-2"], "default-max-batch-size=-2"),
    ):
        res = subprocess.run([inferd_binary(), "serve", "--model-repository", str(model_repo),
                              "--http-port", "0", "--grpc-port", "0", *args],
                             capture_output=True, text=True, timeout=30)
        assert res.returncode != 0, args
        assert expected in res.stdout + res.stderr, (args, res.stdout + res.stderr)


def test_default_max_batch_size_is_settable_like_tritons(model_repo, tmp_path):
    # A batchable model with no config at all: auto-complete gives it the default batch size.
    repo = tmp_path / "auto"
    (repo / "auto" / "1").mkdir(parents=True)
    shutil.copy(model_repo / "mlp" / "1" / "model.onnx", repo / "auto" / "1" / "model.onnx")
    for args, expected in (([], 4), (["--backend-config", "default-max-batch-size=16"], 16),
                           (["--backend-config", "onnxruntime,default-max-batch-size=8"], 8)):
        srv = start_server(repo, tmp_path, args)
        try:
            cfg = requests.get(f"{srv.base_url}/v2/models/auto/config", timeout=TIMEOUT_S).json()
            assert cfg["max_batch_size"] == expected, (args, cfg)
        finally:
            stop_server(srv)
