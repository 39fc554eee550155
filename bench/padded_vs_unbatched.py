#!/usr/bin/python3
"""Padded batching on a variable-length model vs the same model without batching, one inferd
binary, one run (docs/performance.md, "Padded batching"):

    INFERD_BIN=build/apps/inferd/inferd /usr/bin/python3 bench/padded_vs_unbatched.py [seconds]

The model is scripts/make_parity_models.py's padded_encoder at width 256 (per token: an
embedding, a 256x256 MatMul and Relu; pooled: the mean over the true length). Requests carry one
row of 16 to 128 tokens (uniform, fixed seed), sent with the binary tensor extension by wrk at
32 connections, each connection cycling through 64 pre-built bodies. Three configs of the same
model file:
  - unbatched: max_batch_size 16, no dynamic_batching (every request its own execution);
  - exact: dynamic_batching without padding (batches only requests of equal length);
  - padded: dynamic_batching with padding to buckets 32/64/96/128 and the lengths fed.
Prints requests/s, p50 and mean batch size per config, and padded ÷ unbatched.
"""

import json
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from make_parity_models import PADDED_VOCAB, padded_encoder_model  # noqa: E402
from make_models import RepoWriter  # noqa: E402

WIDTH = 256
CONNECTIONS = 32
BODIES = 64
SECONDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10

BASE = f"""max_batch_size: 16
input [ {{ name: "tokens" data_type: TYPE_INT64 dims: [ -1 ] }},
        {{ name: "scale" data_type: TYPE_FP32 dims: [ -1 ] }} ]
output [ {{ name: "per_token" data_type: TYPE_FP32 dims: [ -1, {WIDTH} ] }},
         {{ name: "pooled" data_type: TYPE_FP32 dims: [ {WIDTH} ] }} ]
"""
# Without padding the client sends the lengths itself: [rows, 1], reshaped to the model's [rows].
LENGTHS = """input { name: "lengths" data_type: TYPE_INT64 dims: [ 1 ] reshape { shape: [ ] } }
"""
PADDING = """  padding {
    input [ { name: "tokens" }, { name: "scale" } ]
    length_buckets: [ 32, 64, 96, 128 ]
    lengths_input: "lengths"
    output: "per_token"
  }
"""
CONFIGS = {
    "unbatched": BASE + LENGTHS,
    "exact": BASE + LENGTHS + "dynamic_batching { max_queue_delay_microseconds: 2000 }\n",
    "padded": BASE + "dynamic_batching {\n  max_queue_delay_microseconds: 2000\n" + PADDING + "}\n",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body(tokens, scale, with_lengths):
    length = tokens.shape[1]
    inputs = [{"name": "tokens", "datatype": "INT64", "shape": [1, length],
               "parameters": {"binary_data_size": tokens.nbytes}},
              {"name": "scale", "datatype": "FP32", "shape": [1, length],
               "parameters": {"binary_data_size": scale.nbytes}}]
    data = tokens.tobytes() + scale.tobytes()
    if with_lengths:
        inputs.append({"name": "lengths", "datatype": "INT64", "shape": [1, 1],
                       "parameters": {"binary_data_size": 8}})
        data += np.array([[length]], dtype="<i8").tobytes()
    header = json.dumps({"inputs": inputs,
                         "outputs": [{"name": "pooled", "parameters": {"binary_data": True}}]},
                        separators=(",", ":")).encode()
    return header, header + data


def lua_script(path, bodies):
    """wrk: each request takes the next body (its own header length) in turn."""
    def escape(b):
        return "".join(f"\\{c:03d}" for c in b)
    lines = ["local bodies = {"]
    for header, full in bodies:
        lines.append(f'  {{ "{escape(full)}", "{len(header)}" }},')
    lines += ["}", "local i = 0",
              "request = function()",
              "  i = i % #bodies + 1",
              '  wrk.headers["Content-Type"] = "application/octet-stream"',
              '  wrk.headers["Inference-Header-Content-Length"] = bodies[i][2]',
              '  return wrk.format("POST", nil, nil, bodies[i][1])',
              "end"]
    path.write_text("\n".join(lines) + "\n")


def run(name, repo, lua):
    port = free_port()
    binary = os.environ.get("INFERD_BIN", str(ROOT / "build/apps/inferd/inferd"))
    proc = subprocess.Popen([binary, "serve", "--model-repository", str(repo), "--http-port",
                             str(port), "--grpc-port", "0"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/v2/models/enc/ready", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                sys.exit(f"{name}: server did not become ready")
            time.sleep(0.1)
        out = subprocess.run(["wrk", "-t", "1", "-c", str(CONNECTIONS), "-d", f"{SECONDS}s",
                              "--latency", "-s", str(lua), url + "/v2/models/enc/infer"],
                             capture_output=True, text=True, check=True).stdout
        stats = requests.get(url + "/v2/models/enc/stats").json()["model_stats"][0]
    finally:
        proc.terminate()
        proc.wait()
    rps = next(float(l.split()[1]) for l in out.splitlines() if l.startswith("Requests/sec"))
    p50 = next(l.split()[1] for l in out.splitlines() if l.strip().startswith("50%"))
    errors = [l for l in out.splitlines() if "Non-2xx" in l or "Socket errors" in l]
    batch = stats["inference_count"] / max(1, stats["execution_count"])
    return rps, p50, batch, errors


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk not found: scripts/install-deps.sh installs it")
    rng = np.random.RandomState(2026)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        samples = []
        for _ in range(BODIES):
            length = int(rng.randint(16, 129))
            samples.append((rng.randint(0, PADDED_VOCAB, size=(1, length)).astype("<i8"),
                            rng.uniform(0.5, 2, size=(1, length)).astype("<f4")))
        lua_script(tmp / "padded.lua", [body(t, s, False) for t, s in samples])
        lua_script(tmp / "lengths.lua", [body(t, s, True) for t, s in samples])
        results = {}
        for name, config in CONFIGS.items():
            writer = RepoWriter(str(tmp / name))
            writer.model("enc", 1, padded_encoder_model(WIDTH))
            writer.write("enc/config.pbtxt", config)
            lua = tmp / ("padded.lua" if name == "padded" else "lengths.lua")
            results[name] = run(name, tmp / name, lua)
            rps, p50, batch, errors = results[name]
            print(f"{name:10s} {rps:9.0f} req/s  p50 {p50:>8s}  mean batch {batch:5.2f}  "
                  f"{' '.join(errors)}", flush=True)
        print(f"padded ÷ unbatched: {results['padded'][0] / results['unbatched'][0]:.2f}; "
              f"exact ÷ unbatched: {results['exact'][0] / results['unbatched'][0]:.2f}")


if __name__ == "__main__":
    main()
