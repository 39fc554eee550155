"""Runs the image built by `make image` with podman and serves the examples from it
(`make image-test`; not part of `make test`: it needs the image, podman and a container runtime).

    INFERD_IMAGE (default localhost/inferd:latest), PODMAN_RUNTIME (e.g. runc where crun cannot
    run in this machine's cgroup setup), PODMAN_ULIMITS=0 to keep podman's default ulimits.
"""

import os
import socket
import subprocess
import time

import pytest
import requests

IMAGE = os.environ.get("INFERD_IMAGE", "localhost/inferd:latest")
NAME = f"inferd-image-test-{os.getpid()}"


def podman(*args, check=True, timeout=60):
    runtime = os.environ.get("PODMAN_RUNTIME")
    cmd = ["podman", *(["--runtime", runtime] if runtime else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def container():
    if podman("image", "exists", IMAGE, check=False).returncode != 0:
        pytest.fail(f"no image {IMAGE}: run `make image` first")
    http, grpc_port = free_port(), free_port()
    # Host networking: this machine may not allow podman's own network namespaces.
    limits = [] if os.environ.get("PODMAN_ULIMITS") == "0" else [
        "--ulimit", "nofile=8192:8192", "--ulimit", "nproc=4096:4096"]
    start = time.monotonic()
    podman("run", "-d", "--name", NAME, "--network", "host", *limits, IMAGE, "serve",
           "--model-repository", "/opt/inferd/models", "--host", "127.0.0.1",
           "--http-port", str(http), "--grpc-port", str(grpc_port), "--drain-timeout-secs", "5")
    base = f"http://127.0.0.1:{http}"
    try:
        while True:
            try:
                if requests.get(base + "/v2/health/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() - start > 60:
                logs = podman("logs", NAME, check=False).stderr[-2000:]
                pytest.fail(f"not ready in 60 s: {logs}")
            time.sleep(0.05)
        print(f"container start to ready: {time.monotonic() - start:.2f} s")
        yield base
    finally:
        podman("rm", "-f", NAME, check=False)


def test_the_image_serves_its_example_models(container):
    index = requests.post(container + "/v2/repository/index", timeout=5).json()
    assert {m["name"]: m["state"] for m in index} == {
        "mlp": "READY", "simple": "READY", "text_upper": "READY"}
    body = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16], "data": [1] * 16},
                       {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": [2] * 16}]}
    r = requests.post(container + "/v2/models/simple/infer", json=body, timeout=5)
    assert r.status_code == 200, r.text
    assert r.json()["outputs"][0]["data"] == [3] * 16
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1, 1], "data": ["image"]}]}
    r = requests.post(container + "/v2/models/text_upper/infer", json=body, timeout=5)
    assert r.json()["outputs"][0]["data"] == ["IMAGE"]


def test_inferd_runs_as_nobody_in_the_image(container):
    assert podman("exec", NAME, "id", "-u").stdout.strip() == "65534"


def test_podman_stop_drains_and_exits_0(container):
    podman("stop", "-t", "20", NAME)
    assert podman("inspect", NAME, "--format", "{{.State.ExitCode}}").stdout.strip() == "0"
