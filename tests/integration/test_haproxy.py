"""Three inferd replicas behind a real HAProxy (deploy/haproxy/) under HTTP and gRPC load: a
replica killed with SIGKILL, a rolling restart with SIGTERM drain, and the order of readiness and
drain that makes the restart lossless (docs/deploy.md)."""

import pathlib
import shutil
import signal
import sys
import threading
import time

import grpc
import numpy as np
import pytest
import requests

from grpc_client import make_infer_request, parse_infer_response, stubs
from kserve_v2 import json_input

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "deploy" / "haproxy"))
import fleet as fleet_module  # noqa: E402

EXAMPLES = REPO_ROOT / "examples" / "models"
LOAD_THREADS = 3  # per protocol; the machine has 2 cores for 3 replicas, HAProxy and the load


class Load:
    """Threads sending `simple` inferences through HAProxy until stopped; every answer is checked
    and every failure (status, exception, wrong output) is recorded."""

    def __init__(self, http_url, grpc_target):
        self.http_url = http_url
        self.grpc_target = grpc_target
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.threads = [threading.Thread(target=self._http, args=(i,)) for i in range(LOAD_THREADS)]
        self.threads += [threading.Thread(target=self._grpc, args=(i,))
                         for i in range(LOAD_THREADS)]

    def _record(self, failure=None):
        with self.lock:
            if failure is None:
                self.ok += 1
            else:
                self.failures.append(failure)

    def _http(self, seed):
        a = np.arange(16, dtype=np.float32).reshape(1, 16) + seed
        b = np.ones((1, 16), np.float32)
        body = {"inputs": [json_input("INPUT0", "FP32", a), json_input("INPUT1", "FP32", b)]}
        with requests.Session() as s:
            while not self.stop_event.is_set():
                try:
                    r = s.post(f"{self.http_url}/v2/models/simple/infer", json=body, timeout=20)
                    if r.status_code != 200:
                        self._record(f"HTTP {r.status_code}: {r.text[:200]}")
                        continue
                    out = {o["name"]: o["data"] for o in r.json()["outputs"]}
                    ok = np.array_equal(np.array(out["OUTPUT0"], np.float32), (a + b).ravel())
                    self._record(None if ok else f"wrong OUTPUT0 {out['OUTPUT0']}")
                except requests.RequestException as e:
                    self._record(f"HTTP {type(e).__name__}: {e}")

    def _grpc(self, seed):
        a = np.arange(16, dtype=np.float32).reshape(1, 16) - seed
        b = np.ones((1, 16), np.float32)
        request = make_infer_request("simple", [("INPUT0", "FP32", a), ("INPUT1", "FP32", b)])
        with grpc.insecure_channel(self.grpc_target) as ch:
            stub = stubs().rpc.GRPCInferenceServiceStub(ch)
            while not self.stop_event.is_set():
                try:
                    out = parse_infer_response(stub.ModelInfer(request, timeout=20))
                    ok = np.array_equal(out["OUTPUT1"], a - b)
                    self._record(None if ok else f"wrong OUTPUT1 {out['OUTPUT1']}")
                except grpc.RpcError as e:
                    self._record(f"gRPC {e.code()}: {e.details()}")

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=30)

    def ok_count(self):
        with self.lock:
            return self.ok

    def wait_for_progress(self, n=20, timeout=20):
        """Waits until `n` more requests have succeeded: the load is really flowing."""
        start = self.ok_count()
        deadline = time.monotonic() + timeout
        while self.ok_count() < start + n:
            assert time.monotonic() < deadline, f"load made no progress: {self.failures[:5]}"
            time.sleep(0.05)


@pytest.fixture
def fleet(tmp_path):
    if shutil.which("haproxy") is None:
        pytest.fail("haproxy is not installed (scripts/install-deps.sh installs Debian's)")
    stubs()  # generate the gRPC stubs before any clock starts
    f = fleet_module.Fleet(EXAMPLES, replicas=3, workdir=tmp_path,
                           inferd_args=["--drain-timeout-secs", "10"])
    try:
        f.start()
        yield f
    finally:
        f.stop()


def test_kill_9_of_one_of_three_replicas_under_load_fails_no_request(fleet):
    victim = fleet.replicas[1]
    with Load(fleet.http_url, fleet.grpc_target) as load:
        load.wait_for_progress()
        victim.stop(signal.SIGKILL)
        fleet.wait_backend_state(victim.name, "DOWN", timeout=10)
        load.wait_for_progress(100)
    assert load.failures == [], f"{len(load.failures)} failed of {load.ok}: {load.failures[:5]}"


def test_rolling_restart_with_sigterm_drain_under_load_fails_no_request(fleet):
    with Load(fleet.http_url, fleet.grpc_target) as load:
        load.wait_for_progress()
        codes = fleet.rolling_restart()
        load.wait_for_progress()
    assert codes == [0, 0, 0], "every replica should drain and exit 0 on SIGTERM"
    assert load.failures == [], f"{len(load.failures)} failed of {load.ok}: {load.failures[:5]}"


def test_haproxy_takes_a_replica_out_before_its_drain_stops_accepting(fleet):
    victim = fleet.replicas[0]
    base = f"http://127.0.0.1:{victim.http_port}"
    victim.proc.send_signal(signal.SIGTERM)
    fleet.wait_backend_state(victim.name, "DOWN", timeout=fleet_module.DRAIN_GRACE_S)
    # HAProxy has stopped sending to it, and it still accepts and answers new connections.
    assert victim.proc.poll() is None
    assert requests.get(base + "/v2/health/live", timeout=2).status_code == 200
    assert requests.get(base + "/v2/health/ready", timeout=2).status_code == 503
    assert victim.proc.wait(timeout=15) == 0
