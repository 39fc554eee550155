"""The gRPC frontend's non-inference RPCs, through stubs generated from src/grpc/*.proto: health,
server and model metadata, readiness, config, statistics, and repository control."""

import grpc
import numpy as np
import pytest

from grpc_client import make_infer_request, stubs

TIMEOUT_S = 20


@pytest.fixture(scope="module")
def channel(grpc_target):
    ch = grpc.insecure_channel(grpc_target)
    grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
    yield ch
    ch.close()


@pytest.fixture(scope="module")
def stub(channel):
    return stubs().rpc.GRPCInferenceServiceStub(channel)


@pytest.fixture(scope="module")
def pb():
    return stubs().pb


def call_error(fn, request):
    with pytest.raises(grpc.RpcError) as info:
        fn(request, timeout=TIMEOUT_S)
    return info.value


def test_health_check_reports_serving_for_the_server_and_the_inference_service(channel):
    s = stubs()
    health = s.health_rpc.HealthStub(channel)
    serving = s.health.HealthCheckResponse.SERVING
    assert health.Check(s.health.HealthCheckRequest(), timeout=TIMEOUT_S).status == serving
    named = s.health.HealthCheckRequest(service="inference.GRPCInferenceService")
    assert health.Check(named, timeout=TIMEOUT_S).status == serving
    err = call_error(health.Check, s.health.HealthCheckRequest(service="no.such.Service"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_streams_the_current_status(channel):
    s = stubs()
    health = s.health_rpc.HealthStub(channel)
    stream = health.Watch(s.health.HealthCheckRequest(), timeout=TIMEOUT_S)
    first = next(stream)
    stream.cancel()
    assert first.status == s.health.HealthCheckResponse.SERVING


def test_server_live_and_ready(stub, pb):
    assert stub.ServerLive(pb.ServerLiveRequest(), timeout=TIMEOUT_S).live
    assert stub.ServerReady(pb.ServerReadyRequest(), timeout=TIMEOUT_S).ready


def test_server_metadata_matches_http(stub, pb, client):
    m = stub.ServerMetadata(pb.ServerMetadataRequest(), timeout=TIMEOUT_S)
    http = client.get("/v2").json()
    assert m.name == http["name"] == "inferd"
    assert m.version == http["version"]
    assert list(m.extensions) == http["extensions"]


def test_model_ready_for_ready_unknown_and_failed_models(stub, pb):
    assert stub.ModelReady(pb.ModelReadyRequest(name="mlp"), timeout=TIMEOUT_S).ready
    assert stub.ModelReady(pb.ModelReadyRequest(name="mlp", version="1"), timeout=TIMEOUT_S).ready
    # As Triton's gRPC frontend: not ready, not an error, for unknown models and versions.
    assert not stub.ModelReady(pb.ModelReadyRequest(name="nope"), timeout=TIMEOUT_S).ready
    assert not stub.ModelReady(pb.ModelReadyRequest(name="mlp", version="99"),
                               timeout=TIMEOUT_S).ready
    assert not stub.ModelReady(pb.ModelReadyRequest(name="broken"), timeout=TIMEOUT_S).ready


def test_model_ready_rejects_a_malformed_version(stub, pb):
    err = call_error(stub.ModelReady, pb.ModelReadyRequest(name="mlp", version="one"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "version 'one'" in err.details()


def test_model_metadata_matches_http(stub, pb, client):
    m = stub.ModelMetadata(pb.ModelMetadataRequest(name="mlp"), timeout=TIMEOUT_S)
    http = client.get("/v2/models/mlp").json()
    assert m.name == http["name"] == "mlp"
    assert list(m.versions) == http["versions"]
    assert m.platform == http["platform"]
    for got, want in [(m.inputs, http["inputs"]), (m.outputs, http["outputs"])]:
        assert [(t.name, t.datatype, list(t.shape)) for t in got] == \
            [(t["name"], t["datatype"], t["shape"]) for t in want]


def test_model_metadata_errors_map_like_http(stub, pb, client):
    err = call_error(stub.ModelMetadata, pb.ModelMetadataRequest(name="nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert client.get("/v2/models/nope").status_code == 404
    assert "nope" in err.details()
    err = call_error(stub.ModelMetadata, pb.ModelMetadataRequest(name="broken"))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert client.get("/v2/models/broken").status_code == 503


def test_model_config_carries_the_triton_model_config(stub, pb, client):
    cfg = stub.ModelConfig(pb.ModelConfigRequest(name="mlp"), timeout=TIMEOUT_S).config
    assert cfg.DESCRIPTOR.name == "ModelConfig"
    http = client.get("/v2/models/mlp/config").json()
    assert cfg.name == http["name"] == "mlp"
    assert cfg.max_batch_size == http["max_batch_size"]
    assert [i.name for i in cfg.input] == [i["name"] for i in http["input"]]
    assert [list(i.dims) for i in cfg.input] == [[int(d) for d in i["dims"]] for i in http["input"]]
    assert cfg.input[0].data_type == stubs().config.TYPE_FP32
    assert [o.name for o in cfg.output] == [o["name"] for o in http["output"]]


def test_model_config_of_an_unknown_model_is_not_found(stub, pb):
    err = call_error(stub.ModelConfig, pb.ModelConfigRequest(name="nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_model_statistics_count_inferences(stub, pb):
    def count():
        stats = stub.ModelStatistics(pb.ModelStatisticsRequest(name="simple"), timeout=TIMEOUT_S)
        assert [s.name for s in stats.model_stats] == ["simple"]
        return stats.model_stats[0]

    before = count()
    x = np.ones((2, 16), dtype=np.float32)
    req = make_infer_request("simple", [("INPUT0", "FP32", x), ("INPUT1", "FP32", x)])
    stub.ModelInfer(req, timeout=TIMEOUT_S)
    after = count()
    assert after.version == "1"
    assert after.inference_count == before.inference_count + 2
    assert after.execution_count >= before.execution_count + 1
    assert after.inference_stats.success.count == before.inference_stats.success.count + 1
    assert after.inference_stats.success.ns > before.inference_stats.success.ns
    assert after.last_inference > 0
    # batch_stats: the execution appears under its batch size (2 rows), as over HTTP.
    sizes = {b.batch_size: b.compute_infer.count for b in after.batch_stats}
    before_sizes = {b.batch_size: b.compute_infer.count for b in before.batch_stats}
    assert sizes.get(2, 0) == before_sizes.get(2, 0) + 1


def test_model_statistics_of_every_model_and_of_an_unknown_one(stub, pb):
    stats = stub.ModelStatistics(pb.ModelStatisticsRequest(), timeout=TIMEOUT_S)
    assert {"mlp", "simple"} <= {s.name for s in stats.model_stats}
    err = call_error(stub.ModelStatistics, pb.ModelStatisticsRequest(name="nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_repository_index_matches_http(stub, pb, client):
    index = stub.RepositoryIndex(pb.RepositoryIndexRequest(), timeout=TIMEOUT_S)
    got = [{k: v for k, v in (("name", m.name), ("version", m.version), ("state", m.state),
                              ("reason", m.reason)) if v or k != "version"}
           for m in index.models]
    # The fields of Triton's index (HTTP adds inferd's routing and cold-start fields).
    triton_keys = ("name", "version", "state", "reason")
    http = [{k: v for k, v in e.items() if k in triton_keys}
            for e in client.post("/v2/repository/index").json()]
    assert got == http
    broken = [m for m in index.models if m.name == "broken"]
    assert broken and broken[0].state == "UNAVAILABLE" and broken[0].reason
    ready = stub.RepositoryIndex(pb.RepositoryIndexRequest(ready=True), timeout=TIMEOUT_S)
    assert ready.models and all(m.state == "READY" for m in ready.models)
    assert "broken" not in {m.name for m in ready.models}


def test_repository_index_rejects_a_repository_name(stub, pb):
    err = call_error(stub.RepositoryIndex, pb.RepositoryIndexRequest(repository_name="other"))
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "repository_name" in err.details()


def test_unload_then_load_a_model(stub, pb):
    model = "identity_uint16"
    x = np.array([[1, 2]], dtype=np.uint16)
    infer = make_infer_request(model, [("INPUT0", "UINT16", x)])
    stub.RepositoryModelUnload(pb.RepositoryModelUnloadRequest(model_name=model),
                               timeout=TIMEOUT_S)
    try:
        assert not stub.ModelReady(pb.ModelReadyRequest(name=model), timeout=TIMEOUT_S).ready
        err = call_error(stub.ModelInfer, infer)
        assert err.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        stub.RepositoryModelLoad(pb.RepositoryModelLoadRequest(model_name=model),
                                 timeout=TIMEOUT_S)
    assert stub.ModelReady(pb.ModelReadyRequest(name=model), timeout=TIMEOUT_S).ready
    stub.ModelInfer(infer, timeout=TIMEOUT_S)


def test_repository_control_errors(stub, pb):
    err = call_error(stub.RepositoryModelLoad, pb.RepositoryModelLoadRequest(model_name="nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = call_error(stub.RepositoryModelUnload,
                     pb.RepositoryModelUnloadRequest(model_name="nope"))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    err = call_error(stub.RepositoryModelLoad, pb.RepositoryModelLoadRequest(model_name=""))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    req = pb.RepositoryModelLoadRequest(model_name="mlp")
    req.parameters["config"].string_param = "{not json"
    err = call_error(stub.RepositoryModelLoad, req)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "config" in err.details()
    req = pb.RepositoryModelLoadRequest(model_name="mlp")
    req.parameters["file:1/model.onnx"].bytes_param = b"\0"
    err = call_error(stub.RepositoryModelLoad, req)
    assert err.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "'file:1/model.onnx'" in err.details()


def test_loading_a_broken_model_fails_with_its_reason(stub, pb):
    err = call_error(stub.RepositoryModelLoad, pb.RepositoryModelLoadRequest(model_name="broken"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "broken" in err.details()
