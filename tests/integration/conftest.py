"""Fixtures for the black-box HTTP suite: one real `inferd serve` per session, on a free
loopback port, over a freshly generated test model repository.

The binary comes from $INFERD_BIN (default /work/main/build/apps/inferd/inferd, or
<repo>/build/apps/inferd/inferd). Every test is followed by a check that the server process is
still running, and the session ends with SIGTERM and a check that the server exited cleanly.
"""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
MAKE_MODELS = REPO_ROOT / "scripts" / "make_models.py"
DEFAULT_BIN = REPO_ROOT / "build" / "apps" / "inferd" / "inferd"
STARTUP_TIMEOUT_S = 30
SHUTDOWN_TIMEOUT_S = 15
REQUEST_TIMEOUT_S = 20


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _log_tail(path, lines=60):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "<no log>"


class Server:
    """A running inferd process and how to reach it."""

    def __init__(self, proc, base_url, repo, log_path):
        self.proc = proc
        self.base_url = base_url
        self.repo = repo
        self.log_path = log_path

    def assert_running(self):
        code = self.proc.poll()
        assert code is None, (
            f"inferd exited with code {code}; log tail:\n{_log_tail(self.log_path)}")


def _wait_for(url, deadline, proc, log_path):
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"inferd exited with code {proc.returncode} during startup; log tail:\n"
                        f"{_log_tail(log_path)}")
        try:
            r = requests.get(url, timeout=2)
            if r.status_code == 200:
                return True
            last = r.status_code
        except requests.RequestException as e:
            last = e
        time.sleep(0.1)
    return last


@pytest.fixture(scope="session")
def model_repo(tmp_path_factory):
    repo = tmp_path_factory.mktemp("models")
    subprocess.run([sys.executable, str(MAKE_MODELS), "--test", str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    return repo


def inferd_binary():
    return os.environ.get("INFERD_BIN", str(DEFAULT_BIN))


def server_help():
    """`inferd serve --help`, to skip tests of flags this build does not offer."""
    return subprocess.run([inferd_binary(), "serve", "--help"], capture_output=True, text=True,
                          timeout=10).stdout


_grpc_flag = None


def _serves_grpc():
    """Whether this build's `inferd serve` has --grpc-port (asked once per session)."""
    global _grpc_flag
    if _grpc_flag is None:
        _grpc_flag = "--grpc-port" in server_help()
    return _grpc_flag


def start_server(model_repo, log_dir, extra_args=()):
    """Starts `inferd serve` on a free loopback port and waits until it is live and ready."""
    binary = inferd_binary()
    if not os.access(binary, os.X_OK):
        pytest.fail(f"inferd binary not found or not executable: {binary} (set INFERD_BIN)")
    port = _free_port()
    log_path = pathlib.Path(log_dir) / "inferd.log"
    cmd = [binary, "serve", "--model-repository", str(model_repo), "--http-port", str(port),
           "--host", "127.0.0.1", *extra_args]
    # gRPC on a free port too (never the fixed default 8001, which two servers would share).
    grpc_port = None
    if "--grpc-port" not in extra_args and _serves_grpc():
        grpc_port = _free_port()
        cmd += ["--grpc-port", str(grpc_port)]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    srv = Server(proc, f"http://127.0.0.1:{port}", model_repo, log_path)
    srv.grpc_target = f"127.0.0.1:{grpc_port}" if grpc_port else None
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        live = _wait_for(srv.base_url + "/v2/health/live", deadline, proc, log_path)
        if live is not True:
            pytest.fail(f"GET /v2/health/live never answered 200 within {STARTUP_TIMEOUT_S}s "
                        f"(last: {live!r}); command: {' '.join(cmd)}; log tail:\n"
                        f"{_log_tail(log_path)}")
        # Models may still be loading once live; readiness covers every model that loads.
        _wait_for(srv.base_url + "/v2/health/ready", deadline, proc, log_path)
    except BaseException:
        stop_server(srv, check=False)
        raise
    return srv


def stop_server(srv, check=True):
    """SIGTERM, then (when check) assert a clean exit within SHUTDOWN_TIMEOUT_S."""
    proc = srv.proc
    if proc.poll() is not None:
        assert not check, (f"inferd had already exited with code {proc.returncode}; log tail:\n"
                           f"{_log_tail(srv.log_path)}")
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        assert not check, (f"inferd did not exit within {SHUTDOWN_TIMEOUT_S}s of SIGTERM; "
                           f"log tail:\n{_log_tail(srv.log_path)}")
    if check:
        assert proc.returncode == 0, (
            f"inferd exited with code {proc.returncode} after SIGTERM (want a clean 0); "
            f"log tail:\n{_log_tail(srv.log_path)}")


@pytest.fixture(scope="session")
def server(model_repo, tmp_path_factory):
    # Explicit control mode with every model loaded at start: serves like "none" and also
    # takes the repository load/unload API (which Triton refuses outside explicit mode).
    srv = start_server(model_repo, tmp_path_factory.mktemp("log"),
                       ["--model-control-mode", "explicit", "--load-model", "*"])
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def grpc_target(server):
    """host:port of the session server's gRPC frontend."""
    if server.grpc_target is None:
        pytest.fail("this inferd build has no --grpc-port flag")
    return server.grpc_target


@pytest.fixture(autouse=True)
def server_stays_up(server):
    """Every test must leave the server running, whatever it sent."""
    server.assert_running()
    yield
    server.assert_running()


class Client:
    """requests with the server's base URL and a default timeout; one keep-alive session."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.session = requests.Session()

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", REQUEST_TIMEOUT_S)
        return self.session.request(method, self.base_url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def infer(self, model, body, version=None, **kwargs):
        path = f"/v2/models/{model}" + (f"/versions/{version}" if version else "") + "/infer"
        if isinstance(body, (bytes, bytearray, str)):
            return self.post(path, data=body, **kwargs)
        return self.post(path, json=body, **kwargs)


@pytest.fixture
def client(server):
    c = Client(server.base_url)
    yield c
    c.session.close()


# Module-scoped clients of the module's own `srv` fixture (a module that starts its own server
# under that name gets these; modules may define their own instead).
@pytest.fixture(scope="module")
def http(srv):
    """A keep-alive HTTP client of `srv`."""
    c = Client(srv.base_url)
    yield c
    c.session.close()


@pytest.fixture(scope="module")
def stub(srv):
    """A GRPCInferenceService stub on `srv`'s gRPC port, its channel ready."""
    import grpc
    from grpc_client import stubs
    ch = grpc.insecure_channel(srv.grpc_target)
    grpc.channel_ready_future(ch).result(timeout=STARTUP_TIMEOUT_S)
    yield stubs().rpc.GRPCInferenceServiceStub(ch)
    ch.close()

