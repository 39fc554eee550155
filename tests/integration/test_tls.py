"""TLS (docs/security.md): --tls-cert/--tls-key put HTTP and gRPC on TLS, --tls-client-ca makes
it mutual. A throw-away PKI is made at test time with the `openssl` CLI: a CA, a server
certificate for 127.0.0.1 and localhost, a client certificate, and a second CA whose client
certificate must be refused. Clients: curl, python requests, grpcio; plaintext clients on the
TLS ports fail cleanly and leave the server serving; bad files stop the server at start."""

import json
import pathlib
import socket
import ssl
import subprocess
import time

import grpc
import numpy as np
import pytest
import requests

from conftest import (STARTUP_TIMEOUT_S, Server, _free_port, _log_tail, inferd_binary,
                      stop_server)
from grpc_client import make_infer_request, parse_infer_response, stubs

TIMEOUT_S = 20
HEADER_TIMEOUT_S = 2  # --http-header-timeout-secs of the TLS servers; bounds the handshake too


# --- a throw-away PKI ---------------------------------------------------------------------------

def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _make_ca(d, name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", "2",
             "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _make_leaf(d, name, ca, serial, extensions):
    (d / f"{name}.ext").write_text(extensions)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-set_serial", str(serial), "-days", "2", "-out", f"{name}.crt",
             "-extfile", f"{name}.ext", cwd=d)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _make_ca(d, "ca")
    _make_ca(d, "other-ca")
    _make_leaf(d, "server", "ca", 1001,
               "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
               "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _make_leaf(d, "client", "ca", 1002, "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    _make_leaf(d, "stranger", "other-ca", 1003,
               "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    return d


def pair(pki, name):
    return (str(pki / f"{name}.crt"), str(pki / f"{name}.key"))


# --- servers ------------------------------------------------------------------------------------

def _start_tls_server(model_repo, log_dir, pki, extra_args=()):
    """`inferd serve` with TLS on free ports; waits until HTTPS readiness answers 200."""
    port, grpc_port = _free_port(), _free_port()
    log_path = pathlib.Path(log_dir) / "inferd.log"
    cmd = [inferd_binary(), "serve", "--model-repository", str(model_repo), "--host",
           "127.0.0.1", "--http-port", str(port), "--grpc-port", str(grpc_port),
           "--model-control-mode", "explicit", "--load-model", "*",
           "--http-header-timeout-secs", str(HEADER_TIMEOUT_S),
           "--tls-cert", str(pki / "server.crt"), "--tls-key", str(pki / "server.key"),
           *extra_args]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    srv = Server(proc, f"https://127.0.0.1:{port}", model_repo, log_path)
    srv.port, srv.grpc_target = port, f"127.0.0.1:{grpc_port}"
    cert = pair(pki, "client") if "--tls-client-ca" in extra_args else None
    deadline, last = time.monotonic() + STARTUP_TIMEOUT_S, None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"inferd exited with code {proc.returncode} during startup; log tail:\n"
                        f"{_log_tail(log_path)}")
        try:
            last = requests.get(srv.base_url + "/v2/health/ready", verify=str(pki / "ca.crt"),
                                cert=cert, timeout=2).status_code
            if last == 200:
                return srv
        except requests.RequestException as e:
            last = e
        time.sleep(0.1)
    stop_server(srv, check=False)
    pytest.fail(f"HTTPS readiness never answered 200 (last: {last!r}); command: "
                f"{' '.join(cmd)}; log tail:\n{_log_tail(log_path)}")


@pytest.fixture(scope="module")
def tls_server(model_repo, tmp_path_factory, pki):
    srv = _start_tls_server(model_repo, tmp_path_factory.mktemp("log_tls"), pki)
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def mtls_server(model_repo, tmp_path_factory, pki):
    srv = _start_tls_server(model_repo, tmp_path_factory.mktemp("log_mtls"), pki,
                            ["--tls-client-ca", str(pki / "ca.crt")])
    yield srv
    stop_server(srv)


# --- helpers ------------------------------------------------------------------------------------

def simple_body():
    a = np.arange(16, dtype=np.float32)
    b = np.full(16, 2.0, dtype=np.float32)
    body = {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [1, 16], "data": a.tolist()},
        {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": b.tolist()}]}
    return body, a + b, a - b


def assert_simple_answer(doc):
    _, total, diff = simple_body()
    out = {o["name"]: o["data"] for o in doc["outputs"]}
    np.testing.assert_allclose(out["OUTPUT0"], total)
    np.testing.assert_allclose(out["OUTPUT1"], diff)


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", str(TIMEOUT_S), *args],
                          capture_output=True, text=True, timeout=TIMEOUT_S + 10)


def grpc_stub(srv, credentials=None):
    channel = (grpc.secure_channel(srv.grpc_target, credentials) if credentials
               else grpc.insecure_channel(srv.grpc_target))
    return channel, stubs().rpc.GRPCInferenceServiceStub(channel)


def grpc_credentials(pki, client=None):
    ca = (pki / "ca.crt").read_bytes()
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=ca)
    crt, key = pair(pki, client)
    return grpc.ssl_channel_credentials(root_certificates=ca,
                                        private_key=pathlib.Path(key).read_bytes(),
                                        certificate_chain=pathlib.Path(crt).read_bytes())


def grpc_simple_infer(stub):
    a = np.arange(16, dtype=np.float32).reshape(1, 16)
    b = np.full((1, 16), 2.0, dtype=np.float32)
    req = make_infer_request("simple", [("INPUT0", "FP32", a), ("INPUT1", "FP32", b)])
    out = parse_infer_response(stub.ModelInfer(req, timeout=TIMEOUT_S))
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def https_works(srv, pki, cert=None):
    r = requests.get(srv.base_url + "/v2/health/ready", verify=str(pki / "ca.crt"), cert=cert,
                     timeout=TIMEOUT_S)
    return r.status_code == 200


# --- HTTPS --------------------------------------------------------------------------------------

def test_curl_with_the_ca_gets_ready_and_infers(tls_server, pki):
    ready = curl("--cacert", str(pki / "ca.crt"), "-o", "/dev/null", "-w", "%{http_code}",
                 tls_server.base_url + "/v2/health/ready")
    assert ready.returncode == 0, ready.stderr
    assert ready.stdout == "200"
    body, _, _ = simple_body()
    infer = curl("--cacert", str(pki / "ca.crt"), "-H", "Content-Type: application/json",
                 "--data-binary", json.dumps(body),
                 f"https://localhost:{tls_server.port}/v2/models/simple/infer")
    assert infer.returncode == 0, infer.stderr
    assert_simple_answer(json.loads(infer.stdout))


def test_curl_without_the_ca_refuses_the_server_certificate(tls_server):
    r = curl("-o", "/dev/null", tls_server.base_url + "/v2/health/ready")
    assert r.returncode == 60, (r.returncode, r.stderr)  # peer certificate cannot be verified


def test_requests_with_the_ca_gets_ready_and_infers_on_one_connection(tls_server, pki):
    # verify= on each call: a Session's own .verify loses to $REQUESTS_CA_BUNDLE.
    ca = str(pki / "ca.crt")
    with requests.Session() as s:
        r = s.get(tls_server.base_url + "/v2/health/ready", verify=ca, timeout=TIMEOUT_S)
        assert r.status_code == 200
        body, _, _ = simple_body()
        for _ in range(3):
            r = s.post(tls_server.base_url + "/v2/models/simple/infer", json=body, verify=ca,
                       timeout=TIMEOUT_S)
            assert r.status_code == 200, r.text
            assert_simple_answer(r.json())
        r = s.get(tls_server.base_url + "/v2/models/missing", verify=ca, timeout=TIMEOUT_S)
        assert r.status_code == 404 and "error" in r.json()


def test_plaintext_http_to_the_tls_port_fails_and_tls_keeps_working(tls_server, pki):
    with pytest.raises(requests.RequestException):
        requests.get(f"http://127.0.0.1:{tls_server.port}/v2/health/ready", timeout=5)
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=5) as raw:
        raw.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            answer = raw.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert not answer.startswith(b"HTTP/"), answer
    assert https_works(tls_server, pki)


def test_a_client_that_never_handshakes_is_closed_after_the_header_timeout(tls_server, pki):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        start = time.monotonic()
        try:
            assert raw.recv(1) == b""
        except ConnectionResetError:
            pass
        assert time.monotonic() - start < HEADER_TIMEOUT_S + 5
    assert https_works(tls_server, pki)


def test_connection_close_is_answered_and_the_server_keeps_serving(tls_server, pki):
    r = requests.get(tls_server.base_url + "/v2/health/live", verify=str(pki / "ca.crt"),
                     headers={"Connection": "close"}, timeout=TIMEOUT_S)
    assert r.status_code == 200
    assert r.headers.get("Connection", "").lower() == "close"
    assert https_works(tls_server, pki)


def _fail_count(srv, pki):
    r = requests.get(srv.base_url + "/v2/models/batch_timeout/stats", verify=str(pki / "ca.crt"),
                     timeout=TIMEOUT_S)
    assert r.status_code == 200, r.text
    stats = r.json()["model_stats"][0]
    return stats["inference_stats"]["fail"]["count"], stats["execution_count"]


def test_a_request_whose_tls_client_cuts_the_connection_while_queued_never_runs(tls_server,
                                                                               pki):
    fails, executions = _fail_count(tls_server, pki)
    body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 4],
                                   "data": [1.0] * 4}]}).encode()
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    raw = socket.create_connection(("127.0.0.1", tls_server.port), timeout=5)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(b"POST /v2/models/batch_timeout/infer HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: "
                  + str(len(body)).encode() + b"\r\n\r\n" + body)
        time.sleep(0.05)  # queued behind the model's 400 ms batching delay
        # Closed without close_notify, as Python (and most clients aborting a request) do.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _fail_count(tls_server, pki)[0] == fails:
        time.sleep(0.05)
    assert _fail_count(tls_server, pki) == (fails + 1, executions)


def test_a_request_whose_tls_client_sends_close_notify_while_queued_never_runs(tls_server,
                                                                                pki):
    fails, executions = _fail_count(tls_server, pki)
    body = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 4],
                                   "data": [1.0] * 4}]}).encode()
    context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
    raw = socket.create_connection(("127.0.0.1", tls_server.port), timeout=5)
    s = context.wrap_socket(raw, server_hostname="127.0.0.1")
    s.sendall(b"POST /v2/models/batch_timeout/infer HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/json\r\nContent-Length: "
              + str(len(body)).encode() + b"\r\n\r\n" + body)
    time.sleep(0.05)  # queued behind the model's 400 ms batching delay
    # A clean TLS close: close_notify first, then the socket.
    s.settimeout(0.5)
    try:
        s.unwrap().close()
    except (OSError, ssl.SSLError):
        raw.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _fail_count(tls_server, pki)[0] == fails:
        time.sleep(0.05)
    assert _fail_count(tls_server, pki) == (fails + 1, executions)


# --- gRPC ---------------------------------------------------------------------------------------

def test_grpc_with_the_ca_is_live_and_infers(tls_server, pki):
    channel, stub = grpc_stub(tls_server, grpc_credentials(pki))
    with channel:
        assert stub.ServerLive(stubs().pb.ServerLiveRequest(), timeout=TIMEOUT_S).live
        grpc_simple_infer(stub)


def test_plaintext_grpc_to_the_tls_port_fails_and_tls_keeps_working(tls_server, pki):
    channel, stub = grpc_stub(tls_server)
    with channel, pytest.raises(grpc.RpcError) as err:
        stub.ServerLive(stubs().pb.ServerLiveRequest(), timeout=5)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
    channel, stub = grpc_stub(tls_server, grpc_credentials(pki))
    with channel:
        assert stub.ServerLive(stubs().pb.ServerLiveRequest(), timeout=TIMEOUT_S).live


# --- mutual TLS ---------------------------------------------------------------------------------

def test_mtls_https_without_a_client_certificate_is_refused(mtls_server, pki):
    with pytest.raises(requests.RequestException):
        requests.get(mtls_server.base_url + "/v2/health/ready", verify=str(pki / "ca.crt"),
                     timeout=TIMEOUT_S)
    assert https_works(mtls_server, pki, cert=pair(pki, "client"))


def test_mtls_https_with_a_certificate_from_another_ca_is_refused(mtls_server, pki):
    with pytest.raises(requests.RequestException):
        requests.get(mtls_server.base_url + "/v2/health/ready", verify=str(pki / "ca.crt"),
                     cert=pair(pki, "stranger"), timeout=TIMEOUT_S)
    assert https_works(mtls_server, pki, cert=pair(pki, "client"))


def test_mtls_https_with_the_client_certificate_infers(mtls_server, pki):
    body, _, _ = simple_body()
    r = requests.post(mtls_server.base_url + "/v2/models/simple/infer", json=body,
                      verify=str(pki / "ca.crt"), cert=pair(pki, "client"), timeout=TIMEOUT_S)
    assert r.status_code == 200, r.text
    assert_simple_answer(r.json())


def test_mtls_curl_needs_the_client_certificate(mtls_server, pki):
    url = mtls_server.base_url + "/v2/health/ready"
    without = curl("--cacert", str(pki / "ca.crt"), "-o", "/dev/null", url)
    assert without.returncode != 0
    crt, key = pair(pki, "client")
    with_cert = curl("--cacert", str(pki / "ca.crt"), "--cert", crt, "--key", key, "-o",
                     "/dev/null", "-w", "%{http_code}", url)
    assert with_cert.returncode == 0, with_cert.stderr
    assert with_cert.stdout == "200"


def test_mtls_grpc_without_a_client_certificate_is_refused(mtls_server, pki):
    channel, stub = grpc_stub(mtls_server, grpc_credentials(pki))
    with channel, pytest.raises(grpc.RpcError) as err:
        stub.ServerLive(stubs().pb.ServerLiveRequest(), timeout=5)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_mtls_grpc_with_a_certificate_from_another_ca_is_refused(mtls_server, pki):
    channel, stub = grpc_stub(mtls_server, grpc_credentials(pki, client="stranger"))
    with channel, pytest.raises(grpc.RpcError) as err:
        stub.ServerLive(stubs().pb.ServerLiveRequest(), timeout=5)
    assert err.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


def test_mtls_grpc_with_the_client_certificate_is_live_and_infers(mtls_server, pki):
    channel, stub = grpc_stub(mtls_server, grpc_credentials(pki, client="client"))
    with channel:
        assert stub.ServerLive(stubs().pb.ServerLiveRequest(), timeout=TIMEOUT_S).live
        grpc_simple_infer(stub)


# --- startup errors -----------------------------------------------------------------------------

def _serve_and_fail(tmp_path, tls_args):
    """Runs `inferd serve` over an empty repository; returns (exit code, output)."""
    repo = tmp_path / "empty-repo"
    repo.mkdir(exist_ok=True)
    cmd = [inferd_binary(), "serve", "--model-repository", str(repo), "--host", "127.0.0.1",
           "--http-port", str(_free_port()), "--grpc-port", str(_free_port()), *tls_args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"inferd kept running with bad TLS flags {tls_args}: {e.output}")
    return done.returncode, done.stdout + done.stderr


def test_a_missing_certificate_file_stops_the_server_naming_it(tmp_path, pki):
    missing = str(tmp_path / "no-such.crt")
    code, out = _serve_and_fail(tmp_path, ["--tls-cert", missing, "--tls-key",
                                           str(pki / "server.key")])
    assert code != 0
    assert missing in out, out


def test_a_certificate_file_that_is_not_pem_stops_the_server_naming_it(tmp_path, pki):
    junk = tmp_path / "junk.crt"
    junk.write_text("not a certificate\n")
    code, out = _serve_and_fail(tmp_path, ["--tls-cert", str(junk), "--tls-key",
                                           str(pki / "server.key")])
    assert code != 0
    assert str(junk) in out, out


def test_a_key_that_does_not_match_the_certificate_stops_the_server_naming_it(tmp_path, pki):
    code, out = _serve_and_fail(tmp_path, ["--tls-cert", str(pki / "server.crt"), "--tls-key",
                                           str(pki / "client.key")])
    assert code != 0
    assert str(pki / "client.key") in out, out


def test_a_client_ca_file_that_is_not_pem_stops_the_server_naming_it(tmp_path, pki):
    junk = tmp_path / "junk-ca.crt"
    junk.write_text("-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n")
    code, out = _serve_and_fail(tmp_path, ["--tls-cert", str(pki / "server.crt"), "--tls-key",
                                           str(pki / "server.key"), "--tls-client-ca", str(junk)])
    assert code != 0
    assert str(junk) in out, out


def test_a_certificate_without_a_key_is_a_usage_error(tmp_path, pki):
    code, out = _serve_and_fail(tmp_path, ["--tls-cert", str(pki / "server.crt")])
    assert code != 0
    assert "--tls-key" in out, out
