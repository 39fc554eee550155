"""`inferd serve` gRPC flags: --grpc-max-message-bytes (larger messages get RESOURCE_EXHAUSTED
and the server keeps serving) and --grpc-port 0 (no gRPC frontend)."""

import grpc
import numpy as np
import pytest

from conftest import _free_port, server_help, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response, stubs

TIMEOUT_S = 20
LIMIT = 4096


@pytest.fixture(scope="module")
def small_limit_server(model_repo, tmp_path_factory):
    if "--grpc-max-message-bytes" not in server_help():
        pytest.fail("this inferd build has no --grpc-max-message-bytes flag")
    port = _free_port()
    srv = start_server(model_repo, tmp_path_factory.mktemp("log_grpc_limit"),
                       ["--grpc-port", str(port), "--grpc-max-message-bytes", str(LIMIT)])
    srv.grpc_target = f"127.0.0.1:{port}"
    yield srv
    stop_server(srv)


def test_a_message_over_the_limit_is_resource_exhausted(small_limit_server):
    with grpc.insecure_channel(small_limit_server.grpc_target) as ch:
        grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
        stub = stubs().rpc.GRPCInferenceServiceStub(ch)
        big = np.zeros((20, 64), dtype=np.float32)  # 5120 bytes of tensor data alone
        with pytest.raises(grpc.RpcError) as info:
            stub.ModelInfer(make_infer_request("mlp", [("input", "FP32", big)]),
                            timeout=TIMEOUT_S)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        small = np.zeros((2, 64), dtype=np.float32)
        resp = stub.ModelInfer(make_infer_request("mlp", [("input", "FP32", small)]),
                               timeout=TIMEOUT_S)
        assert parse_infer_response(resp)["logits"].shape == (2, 10)
    small_limit_server.assert_running()


def test_grpc_port_zero_disables_the_grpc_frontend(model_repo, tmp_path):
    srv = start_server(model_repo, tmp_path, ["--grpc-port", "0"])
    try:
        log = srv.log_path.read_text(errors="replace")
        assert "HTTP listening" in log
        assert "gRPC listening" not in log
    finally:
        stop_server(srv)
