#!/usr/bin/python3
"""gRPC against HTTP binary with `inferd bench` as the client for both, `mlp`, in one run:
throughput, and the CPU each side spends per request — the server's from /proc/<pid>/stat
(utime+stime over the measured level), the client's from its rusage — so that a change to
either side of the gRPC path shows up even when the shared box's throughput is noisy.

    BUILD_DIR=build /usr/bin/python3 bench/grpc_cpu.py
    /usr/bin/python3 bench/grpc_cpu.py --server /tmp/inferd-old --client build/apps/inferd/inferd

Each protocol and level runs `--repeats` times, alternating; the best run counts.
"""

import argparse
import json
import os
import pathlib
import resource
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build"))
TICKS = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def wait_ready(url, proc):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("inferd exited before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    sys.exit("inferd did not become ready")


def run_level(client, server_pid, url, protocol_args, concurrency, duration):
    """One `inferd bench` level: (req/s, server CPU µs/request, client CPU µs/request)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        before_server = cpu_seconds(server_pid)
        before_client = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([client, "bench", "--url", url, "--model", "mlp", "--concurrency",
                        str(concurrency), "--duration", str(duration), "--warmup", "0",
                        "--stable-windows", "1", "--max-windows", "1", "--quiet", "--json",
                        out.name, *protocol_args], check=True, stdout=subprocess.DEVNULL)
        after_client = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = cpu_seconds(server_pid) - before_server
        level = json.loads(pathlib.Path(out.name).read_text())["levels"][0]
    client_cpu = (after_client.ru_utime + after_client.ru_stime -
                  before_client.ru_utime - before_client.ru_stime)
    # The warm-up-free level's requests include connection set-up; rusage covers the whole
    # client process, so both CPU figures are per request answered in the process's lifetime.
    requests = level["ok"] + level["errors"]
    return (level["throughput_rps"], 1e6 * server_cpu / max(1, requests),
            1e6 * client_cpu / max(1, requests))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=BUILD / "apps" / "inferd" / "inferd")
    parser.add_argument("--client", default=BUILD / "apps" / "inferd" / "inferd")
    parser.add_argument("--concurrency", default="1,8,64")
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    http_port, grpc_port = free_port(), free_port()
    log = tempfile.TemporaryFile()
    server = subprocess.Popen([args.server, "serve", "--model-repository",
                               ROOT / "examples" / "models", "--http-port", str(http_port),
                               "--grpc-port", str(grpc_port), "--log-level", "warn"],
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{http_port}/v2/health/ready", server)
        paths = {"binary": (f"http://127.0.0.1:{http_port}", ["--binary"]),
                 "grpc": (f"127.0.0.1:{grpc_port}", ["--protocol", "grpc"])}
        print(f"{'conc':>4} {'path':>6} {'req/s':>8} {'server µs/req':>14} "
              f"{'client µs/req':>14}")
        for c in [int(x) for x in args.concurrency.split(",")]:
            best = {}
            for _ in range(args.repeats):
                for name, (url, extra) in paths.items():
                    r = run_level(args.client, server.pid, url, extra, c, args.duration)
                    if name not in best or r[0] > best[name][0]:
                        best[name] = r
            for name, (rps, s_us, c_us) in best.items():
                print(f"{c:>4} {name:>6} {rps:>8.0f} {s_us:>14.1f} {c_us:>14.1f}")
            print(f"{c:>4}  gRPC ÷ HTTP binary: {best['grpc'][0] / best['binary'][0]:.2f} "
                  f"(server CPU/request {best['grpc'][1] / best['binary'][1]:.2f}×, client "
                  f"{best['grpc'][2] / best['binary'][2]:.2f}×)", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=15)


if __name__ == "__main__":
    main()
