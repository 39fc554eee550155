"""Health, server metadata, model metadata, model readiness and model config endpoints."""

import pytest

from kserve_v2 import CONFIG_TYPES, NUMPY_TYPES, error_message

# Triton answers a not-ready model (or server) with HTTP 400; inferd follows Triton.
NOT_READY = 400

IDENTITY_DTYPES = sorted(NUMPY_TYPES)


def ints(values):
    """Protobuf JSON may print int64 as strings; compare as ints."""
    return [int(v) for v in values]


def test_live_endpoint_answers_200(client):
    assert client.get("/v2/health/live").status_code == 200


def test_ready_endpoint_answers_200_although_some_models_failed_to_load(client):
    # broken, bad_config and unknown_field fail; the server is still ready for the rest.
    assert client.get("/v2/health/ready").status_code == 200


def test_server_metadata_names_inferd_and_lists_binary_extension(client):
    r = client.get("/v2")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "inferd"
    assert isinstance(body["version"], str) and body["version"]
    assert "binary_tensor_data" in body["extensions"]


def test_simple_metadata_has_batch_dim_and_fp32_tensors(client):
    r = client.get("/v2/models/simple")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "simple"
    assert body["versions"] == ["1"]
    assert body["platform"] == "onnxruntime_onnx"
    assert sorted(body["inputs"], key=lambda t: t["name"]) == [
        {"name": "INPUT0", "datatype": "FP32", "shape": [-1, 16]},
        {"name": "INPUT1", "datatype": "FP32", "shape": [-1, 16]}]
    assert sorted(body["outputs"], key=lambda t: t["name"]) == [
        {"name": "OUTPUT0", "datatype": "FP32", "shape": [-1, 16]},
        {"name": "OUTPUT1", "datatype": "FP32", "shape": [-1, 16]}]


def test_versioned_metadata_url_returns_the_same_model(client):
    r = client.get("/v2/models/simple/versions/1")
    assert r.status_code == 200
    assert r.json()["name"] == "simple"
    assert [t["name"] for t in r.json()["inputs"]] == ["INPUT0", "INPUT1"]


def test_mlp_metadata_lists_input_and_both_outputs(client):
    body = client.get("/v2/models/mlp").json()
    assert body["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 64]}]
    assert sorted(body["outputs"], key=lambda t: t["name"]) == [
        {"name": "logits", "datatype": "FP32", "shape": [-1, 10]},
        {"name": "probabilities", "datatype": "FP32", "shape": [-1, 10]}]


def test_text_upper_metadata_is_auto_completed_as_unbatched_bytes(client):
    r = client.get("/v2/models/text_upper")
    assert r.status_code == 200
    body = r.json()
    assert body["platform"] == "onnxruntime_onnx"
    assert body["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [1, -1]}]
    assert body["outputs"] == [{"name": "upper", "datatype": "BYTES", "shape": [1, -1]}]


@pytest.mark.parametrize("dtype", IDENTITY_DTYPES)
def test_identity_metadata_is_auto_completed_with_both_dims_dynamic(client, dtype):
    r = client.get(f"/v2/models/identity_{dtype.lower()}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["inputs"] == [{"name": "INPUT0", "datatype": dtype, "shape": [-1, -1]}]
    assert body["outputs"] == [{"name": "OUTPUT0", "datatype": dtype, "shape": [-1, -1]}]


def test_unknown_model_metadata_is_404_naming_the_model(client):
    r = client.get("/v2/models/no_such_model")
    assert r.status_code == 404
    assert "no_such_model" in error_message(r)


def test_unknown_version_metadata_is_404(client):
    r = client.get("/v2/models/simple/versions/99")
    assert r.status_code == 404
    error_message(r)


def test_model_ready_endpoints_answer_200_for_a_loaded_model(client):
    assert client.get("/v2/models/simple/ready").status_code == 200
    assert client.get("/v2/models/simple/versions/1/ready").status_code == 200
    assert client.get("/v2/models/mlp/ready").status_code == 200
    assert client.get("/v2/models/text_upper/ready").status_code == 200


@pytest.mark.parametrize("model", ["broken", "bad_config", "unknown_field"])
def test_model_that_failed_to_load_is_not_ready(client, model):
    assert client.get(f"/v2/models/{model}/ready").status_code == NOT_READY


def test_unknown_model_is_not_ready(client):
    # Triton answers 400 (not ready) for a model it does not know; 404 is accepted too.
    assert client.get("/v2/models/no_such_model/ready").status_code in (NOT_READY, 404)


def test_simple_config_is_returned_as_json(client):
    r = client.get("/v2/models/simple/config")
    assert r.status_code == 200
    cfg = r.json()
    assert cfg["name"] == "simple"
    assert cfg["platform"] == "onnxruntime_onnx"
    assert int(cfg["max_batch_size"]) == 8
    assert [(i["name"], i["data_type"], ints(i["dims"])) for i in cfg["input"]] == [
        ("INPUT0", "TYPE_FP32", [16]), ("INPUT1", "TYPE_FP32", [16])]
    assert [(o["name"], o["data_type"], ints(o["dims"])) for o in cfg["output"]] == [
        ("OUTPUT0", "TYPE_FP32", [16]), ("OUTPUT1", "TYPE_FP32", [16])]


def test_mlp_config_keeps_batching_instances_and_labels(client):
    cfg = client.get("/v2/models/mlp/config").json()
    assert int(cfg["max_batch_size"]) == 64
    assert int(cfg["dynamic_batching"]["max_queue_delay_microseconds"]) == 2000
    assert cfg["parameters"]["adaptive_queue_delay"]["string_value"] == "true"
    groups = cfg["instance_group"]
    assert len(groups) == 1
    assert int(groups[0]["count"]) == 1 and groups[0]["kind"] == "KIND_CPU"
    probs = [o for o in cfg["output"] if o["name"] == "probabilities"]
    assert probs and probs[0]["label_filename"] == "labels.txt"


def test_text_upper_config_is_auto_completed_from_the_model(client):
    r = client.get("/v2/models/text_upper/config")
    assert r.status_code == 200
    cfg = r.json()
    assert cfg["name"] == "text_upper"
    assert int(cfg.get("max_batch_size", 0)) == 0
    assert [(i["name"], i["data_type"], ints(i["dims"])) for i in cfg["input"]] == [
        ("text", "TYPE_STRING", [1, -1])]
    assert [(o["name"], o["data_type"], ints(o["dims"])) for o in cfg["output"]] == [
        ("upper", "TYPE_STRING", [1, -1])]


@pytest.mark.parametrize("dtype", IDENTITY_DTYPES)
def test_identity_config_is_auto_completed_as_batchable_with_max_batch_size_4(client, dtype):
    cfg = client.get(f"/v2/models/identity_{dtype.lower()}/config").json()
    assert int(cfg["max_batch_size"]) == 4
    assert [(i["name"], i["data_type"], ints(i["dims"])) for i in cfg["input"]] == [
        ("INPUT0", CONFIG_TYPES[dtype], [-1])]
    assert [(o["name"], o["data_type"], ints(o["dims"])) for o in cfg["output"]] == [
        ("OUTPUT0", CONFIG_TYPES[dtype], [-1])]


def test_unknown_model_config_is_404(client):
    r = client.get("/v2/models/no_such_model/config")
    assert r.status_code == 404
    assert "no_such_model" in error_message(r)
