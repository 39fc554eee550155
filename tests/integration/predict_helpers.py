"""Helpers of the `inferd predict` tests: run the command, write inputs, score with the server."""

import json
import subprocess

import numpy as np

from conftest import inferd_binary

PREDICT_TIMEOUT_S = 60


def predict(*args, check_rc=0):
    """Runs `inferd predict ARGS`; asserts the exit status when check_rc is not None."""
    proc = subprocess.run([inferd_binary(), "predict", *map(str, args)], capture_output=True,
                          text=True, timeout=PREDICT_TIMEOUT_S)
    if check_rc is not None:
        assert proc.returncode == check_rc, (
            f"exit {proc.returncode}, want {check_rc}\nstdout:\n{proc.stdout}\n"
            f"stderr:\n{proc.stderr}")
    return proc


def mlp_rows(n, seed=0):
    return np.random.RandomState(seed).standard_normal((n, 64)).astype(np.float32)


def write_jsonl(path, rows, name="input"):
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps({name: [float(v) for v in row]}) + "\n")


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def server_logits(client, rows):
    """The session server's logits for `rows`, 64 rows a request (the model's max)."""
    out = []
    for start in range(0, len(rows), 64):
        batch = rows[start:start + 64]
        r = client.infer("mlp", {"inputs": [{"name": "input", "shape": list(batch.shape),
                                             "datatype": "FP32",
                                             "data": batch.flatten().tolist()}],
                                 "outputs": [{"name": "logits"}]})
        assert r.status_code == 200, r.text
        out.append(np.array(r.json()["outputs"][0]["data"], dtype=np.float32).reshape(-1, 10))
    return np.concatenate(out)
