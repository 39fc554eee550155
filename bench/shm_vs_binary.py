#!/usr/bin/python3
"""A 4 MB FP32 tensor through system shared memory vs through the binary tensor extension,
one inferd, one run (docs/performance.md):

    INFERD_BIN=build/apps/inferd/inferd /usr/bin/python3 bench/shm_vs_binary.py [requests]

Starts `inferd serve` on a free port over the models of scripts/make_parity_models.py and
sends identity_fp32 the same 1 Mi-element tensor both ways over one keep-alive HTTP connection:
binary (input in the body, output in the response body) and shared memory (input read from a
registered POSIX segment, output written into it; the request and response carry only JSON).
Each request's answer is checked. Prints mean and median latency per way and their ratio.
"""

import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing import shared_memory

import numpy as np
import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
ELEMENTS = 1 << 20  # 4 MiB of FP32


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary_request(x):
    header = ('{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[%d],'
              '"parameters":{"binary_data_size":%d}}],'
              '"outputs":[{"name":"OUTPUT0","parameters":{"binary_data":true}}]}'
              % (x.size, x.nbytes)).encode()
    return header, header + x.tobytes()


def shm_request(n):
    region = {"shared_memory_byte_size": 4 * n}
    return {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [n],
                        "parameters": dict(region, shared_memory_region="in")}],
            "outputs": [{"name": "OUTPUT0", "parameters": dict(region,
                                                               shared_memory_region="out")}]}


def timed(fn, count):
    times = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv):
    count = int(argv[0]) if argv else 50
    binary = os.environ.get("INFERD_BIN", str(ROOT / "build" / "apps" / "inferd" / "inferd"))
    repo = tempfile.mkdtemp(prefix="inferd-shm-bench-")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_parity_models.py"), repo],
                   check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen(
        [binary, "serve", "--model-repository", repo, "--http-port", str(port), "--host",
         "127.0.0.1", "--grpc-port", str(free_port()), "--model-control-mode", "explicit",
         "--load-model", "identity_fp32"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    segment = shared_memory.SharedMemory(create=True, size=2 * 4 * ELEMENTS)
    try:
        for _ in range(300):
            try:
                if session.get(base + "/v2/health/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        key = "/" + segment.name.lstrip("/")
        for name, offset in (("in", 0), ("out", 4 * ELEMENTS)):
            r = session.post(f"{base}/v2/systemsharedmemory/region/{name}/register",
                             json={"key": key, "offset": offset, "byte_size": 4 * ELEMENTS})
            r.raise_for_status()
        x = np.random.RandomState(0).standard_normal(ELEMENTS).astype(np.float32)
        segment.buf[:4 * ELEMENTS] = x.tobytes()
        header, body = binary_request(x)
        url = f"{base}/v2/models/identity_fp32/infer"

        def via_binary():
            r = session.post(url, data=body,
                             headers={"Inference-Header-Content-Length": str(len(header))})
            r.raise_for_status()
            length = int(r.headers["Inference-Header-Content-Length"])
            assert len(r.content) - length == 4 * ELEMENTS

        shm_body = shm_request(ELEMENTS)

        def via_shm():
            r = session.post(url, json=shm_body)
            r.raise_for_status()
            assert "data" not in r.json()["outputs"][0]

        for fn in (via_binary, via_shm):  # warm up
            timed(fn, 5)
        got = np.frombuffer(bytes(segment.buf[4 * ELEMENTS:8 * ELEMENTS]), dtype=np.float32)
        assert np.array_equal(got, x), "shared memory output differs from the input"
        # Interleaved rounds, so both ways see the same machine load.
        results = {"binary": [], "shm": []}
        for _ in range(count // 10 or 1):
            results["binary"] += timed(via_binary, 10)
            results["shm"] += timed(via_shm, 10)
        for way, times in results.items():
            print(f"{way:>6}: mean {statistics.mean(times) * 1e3:7.2f} ms, "
                  f"median {statistics.median(times) * 1e3:7.2f} ms over {len(times)} requests")
        ratio = statistics.median(results["shm"]) / statistics.median(results["binary"])
        print(f"4 MB tensor, shared memory / binary extension (median latency): {ratio:.3f}")
        session.post(f"{base}/v2/systemsharedmemory/unregister")
    finally:
        session.close()
        segment.close()
        segment.unlink()
        server.terminate()
        server.wait(timeout=15)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
