#!/usr/bin/python3
"""Throughput of the `mlp` model through inferd's three request paths, measured in one run:
HTTP with a JSON body, HTTP with the binary tensor extension, and gRPC ModelInfer with
raw_input_contents. N client threads each send R requests, one at a time, on their own
keep-alive connection (HTTP) or channel (gRPC); prints req/s per path and the gRPC/HTTP ratios.

    /usr/bin/python3 bench/grpc_vs_http.py                    # starts build/apps/inferd/inferd
    /usr/bin/python3 bench/grpc_vs_http.py --inferd build-grpc/apps/inferd/inferd --threads 8
    /usr/bin/python3 bench/grpc_vs_http.py --http 127.0.0.1:8000 --grpc 127.0.0.1:8001

Clients are Python (requests, grpcio), so on a small machine the numbers include client cost;
they compare the paths under the same client conditions rather than measure the server alone.
"""

import argparse
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import numpy as np
import requests

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))

from grpc_client import make_infer_request, stubs  # noqa: E402
from kserve_v2 import binary_request, json_input  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, repo, log):
    http_port, grpc_port = free_port(), free_port()
    proc = subprocess.Popen([binary, "serve", "--model-repository", str(repo), "--host",
                             "127.0.0.1", "--http-port", str(http_port), "--grpc-port",
                             str(grpc_port), "--log-level", "warn"], stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v2/health/ready", timeout=1).status_code == 200:
                return proc, f"127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}"
        except requests.RequestException:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    sys.exit("inferd did not become ready")


def run_threads(threads, per_thread, make_worker):
    """Runs `threads` workers of `per_thread` calls each after one warm-up call; req/s."""
    barrier = threading.Barrier(threads + 1)
    errors = []

    def body(i):
        try:
            call = make_worker(i)
            call()  # warm-up: connection set-up is not measured
            barrier.wait()
            for _ in range(per_thread):
                call()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
            barrier.abort()

    workers = [threading.Thread(target=body, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return threads * per_thread / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inferd", default=str(REPO_ROOT / "build" / "apps" / "inferd" / "inferd"))
    ap.add_argument("--http", help="host:port of a running server (skips starting one)")
    ap.add_argument("--grpc", help="host:port of the running server's gRPC frontend")
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--requests", type=int, default=500, help="per thread")
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()

    proc = None
    tmp = tempfile.TemporaryDirectory(prefix="inferd-bench-")
    if args.http:
        http_addr, grpc_addr = args.http, args.grpc
    else:
        repo = pathlib.Path(tmp.name) / "models"
        subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "make_models.py"),
                        "--examples", str(repo)], check=True, stdout=subprocess.DEVNULL)
        log = open(pathlib.Path(tmp.name) / "inferd.log", "wb")
        proc, http_addr, grpc_addr = start_server(args.inferd, repo, log)

    x = np.random.RandomState(0).uniform(-1, 1, (args.batch, 64)).astype(np.float32)
    url = f"http://{http_addr}/v2/models/mlp/infer"
    json_body = {"inputs": [json_input("input", "FP32", x)]}
    bin_body, bin_headers = binary_request([("input", "FP32", x)])
    grpc_req = make_infer_request("mlp", [("input", "FP32", x)])
    rpc = stubs().rpc

    def http_json(_):
        s = requests.Session()
        return lambda: s.post(url, json=json_body, timeout=30).raise_for_status()

    def http_binary(_):
        s = requests.Session()
        return lambda: s.post(url, data=bin_body, headers=bin_headers,
                              timeout=30).raise_for_status()

    def grpc_raw(_):
        stub = rpc.GRPCInferenceServiceStub(grpc.insecure_channel(grpc_addr))
        return lambda: stub.ModelInfer(grpc_req, timeout=30)

    try:
        results = {}
        for name, worker in [("HTTP JSON", http_json), ("HTTP binary", http_binary),
                             ("gRPC raw", grpc_raw)]:
            results[name] = run_threads(args.threads, args.requests, worker)
            print(f"{name:12s} {results[name]:9.1f} req/s")
        print(f"ratio gRPC/HTTP JSON   {results['gRPC raw'] / results['HTTP JSON']:.2f}")
        print(f"ratio gRPC/HTTP binary {results['gRPC raw'] / results['HTTP binary']:.2f}")
        print(f"({args.threads} threads x {args.requests} requests, mlp batch {args.batch})")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
        tmp.cleanup()


if __name__ == "__main__":
    main()
