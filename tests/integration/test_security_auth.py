"""Authentication and scopes (docs/security.md): the auth matrix — no token, unknown token, an
infer token on the admin API, an admin token — over HTTP and gRPC, open health probes, and
Triton's --http-restricted-api / --grpc-restricted-protocol header form."""

import grpc
import numpy as np
import pytest
import requests

from conftest import _free_port, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response, stubs

TIMEOUT_S = 20
INFER_TOKEN = "inf-9f2c1e7b"
ADMIN_TOKEN = "adm-4d8a6b03"
MLP_INPUT = {"name": "input", "datatype": "FP32", "shape": [1, 64], "data": [0.5] * 64}


@pytest.fixture(scope="module")
def auth_server(model_repo, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("log_auth")
    token_file = log_dir / "tokens"
    token_file.write_text(f"# test tokens\n{INFER_TOKEN} infer\n{ADMIN_TOKEN} admin\n")
    grpc_port = _free_port()
    srv = start_server(model_repo, log_dir,
                       ["--grpc-port", str(grpc_port), "--auth-token-file", str(token_file),
                        "--model-control-mode", "explicit", "--load-model", "*"])
    srv.grpc_target = f"127.0.0.1:{grpc_port}"
    yield srv
    stop_server(srv)
    log = srv.log_path.read_text(errors="replace")
    assert INFER_TOKEN not in log and ADMIN_TOKEN not in log, "a token reached the log"


def bearer(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def http(srv, method, path, token=None, **kwargs):
    return requests.request(method, srv.base_url + path, headers=bearer(token),
                            timeout=TIMEOUT_S, **kwargs)


# (method, path, body, needs admin)
HTTP_APIS = [
    ("POST", "/v2/models/mlp/infer", {"inputs": [MLP_INPUT]}, False),
    ("GET", "/v2/models/mlp", None, False),
    ("GET", "/v2", None, False),
    ("GET", "/v2/models/mlp/config", None, False),
    ("GET", "/v2/models/mlp/stats", None, False),
    ("GET", "/metrics", None, False),
    ("POST", "/v2/repository/index", None, True),
    ("POST", "/v2/repository/models/mlp/load", None, True),
    ("GET", "/v2/logging", None, True),
    ("POST", "/v2/repository/models/mlp/routing", {"policy": "latest"}, True),
]


@pytest.mark.parametrize("method,path,body,admin", HTTP_APIS)
def test_http_without_a_token_is_401(auth_server, method, path, body, admin):
    r = http(auth_server, method, path, json=body)
    assert r.status_code == 401, r.text
    assert "error" in r.json()
    assert r.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method,path,body,admin", HTTP_APIS)
def test_http_with_an_unknown_token_is_401(auth_server, method, path, body, admin):
    r = http(auth_server, method, path, token="not-a-token", json=body)
    assert r.status_code == 401, r.text
    assert "not-a-token" not in r.text


@pytest.mark.parametrize("method,path,body,admin", HTTP_APIS)
def test_http_infer_token_covers_infer_apis_and_is_403_on_admin_apis(auth_server, method, path,
                                                                      body, admin):
    r = http(auth_server, method, path, token=INFER_TOKEN, json=body)
    if admin:
        assert r.status_code == 403, r.text
        assert "admin" in r.json()["error"]
    else:
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("method,path,body,admin", HTTP_APIS)
def test_http_admin_token_covers_everything(auth_server, method, path, body, admin):
    r = http(auth_server, method, path, token=ADMIN_TOKEN, json=body)
    assert r.status_code == 200, r.text


def test_http_other_auth_schemes_are_401(auth_server):
    r = requests.get(auth_server.base_url + "/v2/models/mlp", timeout=TIMEOUT_S,
                     headers={"Authorization": f"Basic {INFER_TOKEN}"})
    assert r.status_code == 401


def test_http_health_stays_open_for_probes(auth_server):
    assert http(auth_server, "GET", "/v2/health/live").status_code == 200
    assert http(auth_server, "GET", "/v2/health/ready").status_code == 200
    assert http(auth_server, "GET", "/v2/models/mlp/ready").status_code == 200


def test_http_unknown_paths_stay_404(auth_server):
    assert http(auth_server, "GET", "/nowhere").status_code == 404


def grpc_calls(s):
    """(name, callable(stub, metadata), needs admin) for a representative RPC of each group."""
    pb = s.pb
    infer = make_infer_request("mlp", [("input", "FP32", np.full((1, 64), 0.5, np.float32))])
    return [
        ("ModelInfer", lambda st, md: st.ModelInfer(infer, metadata=md, timeout=TIMEOUT_S),
         False),
        ("ModelMetadata", lambda st, md: st.ModelMetadata(
            pb.ModelMetadataRequest(name="mlp"), metadata=md, timeout=TIMEOUT_S), False),
        ("ModelConfig", lambda st, md: st.ModelConfig(
            pb.ModelConfigRequest(name="mlp"), metadata=md, timeout=TIMEOUT_S), False),
        ("ModelStatistics", lambda st, md: st.ModelStatistics(
            pb.ModelStatisticsRequest(name="mlp"), metadata=md, timeout=TIMEOUT_S), False),
        ("RepositoryIndex", lambda st, md: st.RepositoryIndex(
            pb.RepositoryIndexRequest(), metadata=md, timeout=TIMEOUT_S), True),
        ("RepositoryModelLoad", lambda st, md: st.RepositoryModelLoad(
            pb.RepositoryModelLoadRequest(model_name="mlp"), metadata=md, timeout=TIMEOUT_S),
         True),
    ]


GRPC_CASES = [  # (token, expected code for infer APIs, expected code for admin APIs)
    (None, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAUTHENTICATED),
    ("wrong-token", grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAUTHENTICATED),
    (INFER_TOKEN, grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED),
    (ADMIN_TOKEN, grpc.StatusCode.OK, grpc.StatusCode.OK),
]


@pytest.mark.parametrize("token,infer_code,admin_code", GRPC_CASES,
                         ids=["no-token", "wrong-token", "infer-token", "admin-token"])
def test_grpc_auth_matrix(auth_server, token, infer_code, admin_code):
    s = stubs()
    md = [("authorization", f"Bearer {token}")] if token else []
    with grpc.insecure_channel(auth_server.grpc_target) as ch:
        stub = s.rpc.GRPCInferenceServiceStub(ch)
        for name, call, admin in grpc_calls(s):
            want = admin_code if admin else infer_code
            try:
                call(stub, md)
                got = grpc.StatusCode.OK
            except grpc.RpcError as e:
                got = e.code()
                if token:
                    assert token not in (e.details() or "")
            assert got == want, f"{name} with token {token!r}: {got}, want {want}"


def test_grpc_stream_infer_needs_a_token(auth_server):
    s = stubs()
    req = make_infer_request("mlp", [("input", "FP32", np.full((1, 64), 0.5, np.float32))])
    with grpc.insecure_channel(auth_server.grpc_target) as ch:
        stub = s.rpc.GRPCInferenceServiceStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            list(stub.ModelStreamInfer(iter([req]), timeout=TIMEOUT_S))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        answers = list(stub.ModelStreamInfer(iter([req]), timeout=TIMEOUT_S,
                                             metadata=[("authorization", f"Bearer {INFER_TOKEN}")]))
        assert len(answers) == 1 and not answers[0].error_message
        assert parse_infer_response(answers[0].infer_response)["logits"].shape == (1, 10)


def test_grpc_health_stays_open(auth_server):
    s = stubs()
    with grpc.insecure_channel(auth_server.grpc_target) as ch:
        stub = s.rpc.GRPCInferenceServiceStub(ch)
        assert stub.ServerLive(s.pb.ServerLiveRequest(), timeout=TIMEOUT_S).live
        assert stub.ServerReady(s.pb.ServerReadyRequest(), timeout=TIMEOUT_S).ready
        health = s.health_rpc.HealthStub(ch)
        assert health.Check(s.health.HealthCheckRequest(), timeout=TIMEOUT_S).status == 1


@pytest.fixture(scope="module")
def restricted_server(model_repo, tmp_path_factory):
    grpc_port = _free_port()
    srv = start_server(model_repo, tmp_path_factory.mktemp("log_restricted"),
                       ["--grpc-port", str(grpc_port),
                        "--http-restricted-api", "model-repository,logging:admin-key=adm1n",
                        "--grpc-restricted-protocol", "model-repository:admin-key=adm1n",
                        "--model-control-mode", "explicit", "--load-model", "*"])
    srv.grpc_target = f"127.0.0.1:{grpc_port}"
    yield srv
    stop_server(srv)


def test_http_restricted_api_needs_its_header(restricted_server):
    url = restricted_server.base_url
    assert requests.post(url + "/v2/repository/index", timeout=TIMEOUT_S).status_code == 403
    assert requests.post(url + "/v2/repository/index", headers={"admin-key": "wrong"},
                         timeout=TIMEOUT_S).status_code == 403
    assert requests.post(url + "/v2/repository/index", headers={"Admin-Key": "adm1n"},
                         timeout=TIMEOUT_S).status_code == 200
    assert requests.get(url + "/v2/logging", timeout=TIMEOUT_S).status_code == 403
    # APIs not named stay open.
    r = requests.post(url + "/v2/models/mlp/infer", json={"inputs": [MLP_INPUT]},
                      timeout=TIMEOUT_S)
    assert r.status_code == 200, r.text


def test_grpc_restricted_protocol_needs_its_metadata(restricted_server):
    s = stubs()
    with grpc.insecure_channel(restricted_server.grpc_target) as ch:
        stub = s.rpc.GRPCInferenceServiceStub(ch)
        with pytest.raises(grpc.RpcError) as info:
            stub.RepositoryIndex(s.pb.RepositoryIndexRequest(), timeout=TIMEOUT_S)
        assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED
        stub.RepositoryIndex(s.pb.RepositoryIndexRequest(), timeout=TIMEOUT_S,
                             metadata=[("admin-key", "adm1n")])
        stub.ModelMetadata(s.pb.ModelMetadataRequest(name="mlp"), timeout=TIMEOUT_S)


def test_a_malformed_token_file_stops_the_server_at_start(model_repo, tmp_path):
    import subprocess
    from conftest import inferd_binary
    bad = tmp_path / "tokens"
    bad.write_text("s3cr3t-token superuser\n")
    r = subprocess.run([inferd_binary(), "serve", "--model-repository", str(model_repo),
                        "--http-port", "0", "--grpc-port", "0", "--auth-token-file", str(bad)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "superuser" in out and "s3cr3t-token" not in out
