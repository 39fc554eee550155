"""`inferd predict` resumes after kill -9 with byte-identical output; its RSS does not grow with
the input (docs/batch.md)."""

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import onnx
from onnx import TensorProto, helper

from conftest import inferd_binary
from predict_helpers import mlp_rows, predict, write_jsonl


@pytest.mark.parametrize("suffix", ["jsonl", "npz"])
def test_a_killed_run_resumes_to_byte_identical_output(model_repo, tmp_path, suffix):
    np.save(tmp_path / "in.npy", mlp_rows(20000))
    # Small blocks and batches, a checkpoint after each block: a run long enough to kill.
    args = ["--model-repository", model_repo, "--model", "mlp", "--input", tmp_path / "in.npy",
            "--block-rows", 10, "--batch-size", 2, "--checkpoint-secs", 0, "--in-flight", 1]
    whole = tmp_path / f"whole.{suffix}"
    predict(*args, "--output", whole)

    out = tmp_path / f"killed.{suffix}"
    checkpoint = pathlib.Path(str(out) + ".checkpoint")
    proc = subprocess.Popen([inferd_binary(), "predict", *map(str, args), "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert checkpoint.exists()
    # .npz: the rows so far are in one .npy part per output; the archive comes at the end.
    written = [out] if suffix == "jsonl" else sorted(tmp_path.glob(f"{out.name}.*.npy.part"))
    assert len(written) == (1 if suffix == "jsonl" else 2)
    partial = sum(p.stat().st_size for p in written)
    assert 0 < partial < whole.stat().st_size

    resumed = predict(*args, "--output", out)
    assert "(resumed)" in resumed.stderr
    assert out.read_bytes() == whole.read_bytes()
    assert not checkpoint.exists()
    assert not list(tmp_path.glob(f"{out.name}.*part*"))
    if suffix == "npz":
        with np.load(out) as npz:
            assert npz.files == ["logits", "probabilities"] and len(npz["logits"]) == 20000


def test_a_checkpoint_of_another_command_is_not_resumed(model_repo, tmp_path):
    write_jsonl(tmp_path / "in.jsonl", mlp_rows(10))
    out = tmp_path / "out.jsonl"
    pathlib.Path(str(out) + ".checkpoint").write_text(
        "inferd-predict-checkpoint 1\nmodel=other\n0 0 0 0 0 0 0\n")
    proc = predict("--model-repository", model_repo, "--model", "mlp", "--input",
                   tmp_path / "in.jsonl", "--output", out, check_rc=1)
    assert "belongs to another command" in proc.stderr


WIDE = 16384  # floats a row: 64 KiB


def write_wide_model(repo):
    """wide_sum: input [batch, WIDE] -> ReduceSum over the row -> sum [batch, 1]: cheap, wide."""
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["input", "axes"], ["sum"], keepdims=1)],
        "wide_sum", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["b", WIDE])],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["b", 1])],
        initializer=[helper.make_tensor("axes", TensorProto.INT64, [1], [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    (repo / "wide_sum" / "1").mkdir(parents=True)
    onnx.save(model, str(repo / "wide_sum" / "1" / "model.onnx"))
    (repo / "wide_sum" / "config.pbtxt").write_text(
        'name: "wide_sum"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 16\n'
        f'input {{ name: "input" data_type: TYPE_FP32 dims: [ {WIDE} ] }}\n'
        'output { name: "sum" data_type: TYPE_FP32 dims: [ 1 ] }\n')


# Runs a command and prints its peak RSS in KiB. A small Python process starts it, so that the
# RSS the child inherits before exec (a fork of pytest, which mapped the big input) is not counted.
PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_bytes(args):
    """Runs predict and returns its peak resident set."""
    proc = subprocess.run([sys.executable, "-c", PEAK_RSS, inferd_binary(), "predict",
                           *map(str, args)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout) * 1024


@pytest.mark.skipif("ASAN_OPTIONS" in os.environ,
                    reason="under ASan the RSS measures its quarantine and shadow, not predict")
def test_memory_stays_flat_while_the_input_grows(tmp_path):
    repo = tmp_path / "repo"
    write_wide_model(repo)
    small, big = 64, 8192  # rows: 4 MiB and 512 MiB of input
    for name, rows in (("small", small), ("big", big)):
        # Written a chunk at a time through a memory map, so the test itself stays small too.
        array = np.lib.format.open_memmap(tmp_path / f"{name}.npy", mode="w+", dtype=np.float32,
                                          shape=(rows, WIDE))
        for start in range(0, rows, 256):
            array[start:start + 256] = start % 7
        array.flush()
        del array
    common = ["--model-repository", repo, "--model", "wide_sum", "--block-rows", 64]
    base = peak_rss_bytes([*common, "--input", tmp_path / "small.npy",
                           "--output", tmp_path / "small.jsonl"])
    # The limit: the peak RSS of scoring one block, plus 48 MiB; the big input is 512 MiB,
    # several times the whole limit.
    limit = base + (48 << 20)
    input_bytes = (tmp_path / "big.npy").stat().st_size
    assert input_bytes > 3 * limit, (input_bytes, limit)
    peak = peak_rss_bytes([*common, "--input", tmp_path / "big.npy",
                           "--output", tmp_path / "big.jsonl"])
    assert peak < limit, f"peak RSS {peak >> 20} MiB over the limit {limit >> 20} MiB"
    lines = (tmp_path / "big.jsonl").read_text().splitlines()
    assert len(lines) == big
    assert json.loads(lines[-1]) == {"sum": [float((big - 256) % 7 * WIDE)]}
