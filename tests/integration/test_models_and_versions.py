"""Real models against numpy references (mlp, text_upper) and version routing (versioned,
latest2)."""

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from kserve_v2 import binary_request, error_message, json_input, parse_infer_response

# Status codes accepted for a version the policy does not serve. Triton answers 400 for a
# version it has not loaded; 404 (not found) and 503 (unavailable) are accepted too.
VERSION_NOT_SERVED = (400, 404, 503)


# --- mlp -----------------------------------------------------------------------------------------

class MlpReference:
    """The mlp recomputed in float64 from the initializers of the served .onnx file."""

    def __init__(self, onnx_path):
        model = onnx.load(str(onnx_path))
        w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}
        self.w1, self.b1 = w["fc1.weight"], w["fc1.bias"]
        self.w2, self.b2 = w["fc2.weight"], w["fc2.bias"]

    def __call__(self, x):
        hidden = np.maximum(x.astype(np.float64) @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        return logits, e / e.sum(axis=1, keepdims=True)


@pytest.fixture(scope="session")
def mlp_reference(model_repo):
    return MlpReference(model_repo / "mlp" / "1" / "model.onnx")


def mlp_input(batch, seed):
    return np.random.RandomState(seed).standard_normal((batch, 64)).astype(np.float32)


def assert_matches_mlp(out, x, reference):
    logits, probs = reference(x)
    np.testing.assert_allclose(out["logits"], logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out["probabilities"], probs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batch", [1, 7])
def test_mlp_json_matches_numpy_reference(client, mlp_reference, batch):
    x = mlp_input(batch, seed=100 + batch)
    header, out = parse_infer_response(
        client.infer("mlp", {"inputs": [json_input("input", "FP32", x)]}))
    assert header["model_name"] == "mlp" and header["model_version"] == "1"
    assert out["logits"].shape == (batch, 10) and out["probabilities"].shape == (batch, 10)
    assert_matches_mlp(out, x, mlp_reference)


@pytest.mark.parametrize("batch", [1, 7, 64])
def test_mlp_binary_matches_numpy_reference(client, mlp_reference, batch):
    x = mlp_input(batch, seed=200 + batch)
    body, headers = binary_request([("input", "FP32", x)], outputs=["logits", "probabilities"])
    _, out = parse_infer_response(client.infer("mlp", body, headers=headers))
    assert_matches_mlp(out, x, mlp_reference)


def test_mlp_probabilities_sum_to_one_per_row(client):
    x = mlp_input(5, seed=300)
    r = client.infer("mlp", {"inputs": [json_input("input", "FP32", x)],
                             "outputs": [{"name": "probabilities"}]})
    header, out = parse_infer_response(r)
    assert [o["name"] for o in header["outputs"]] == ["probabilities"]
    np.testing.assert_allclose(out["probabilities"].sum(axis=1), np.ones(5), rtol=1e-5)


def test_mlp_batch_over_max_batch_size_is_rejected_with_400(client):
    x = mlp_input(65, seed=301)
    r = client.infer("mlp", {"inputs": [json_input("input", "FP32", x)]})
    assert r.status_code == 400
    error_message(r)


# --- text_upper ----------------------------------------------------------------------------------

def test_text_upper_uppercases_bytes_through_json(client):
    words = ["hello", "World", "inferd 1.0", "", "ünïcödé"]
    r = client.infer("text_upper", {"inputs": [
        {"name": "text", "datatype": "BYTES", "shape": [1, len(words)], "data": words}]})
    header, out = parse_infer_response(r)
    assert header["outputs"][0]["name"] == "upper"
    assert header["outputs"][0]["datatype"] == "BYTES"
    assert out["upper"].tolist() == [[w.upper().encode() for w in words]]


def test_text_upper_uppercases_bytes_through_binary(client):
    words = np.array([[b"abc", b"MiXeD", b"z"]], dtype=np.object_)
    body, headers = binary_request([("text", "BYTES", words)], outputs=["upper"])
    _, out = parse_infer_response(client.infer("text_upper", body, headers=headers))
    assert out["upper"].tolist() == [[b"ABC", b"MIXED", b"Z"]]


# --- versions ------------------------------------------------------------------------------------

def add_constant(client, model, version, seed=0):
    x = np.random.RandomState(seed).uniform(-5, 5, (2, 4)).astype(np.float32)
    r = client.infer(model, {"inputs": [json_input("x", "FP32", x)]}, version=version)
    return r, x


@pytest.mark.parametrize("version", [1, 3])
def test_versioned_serves_each_listed_version_with_its_own_model(client, version):
    r, x = add_constant(client, "versioned", version)
    header, out = parse_infer_response(r)
    assert header["model_version"] == str(version)
    np.testing.assert_array_equal(out["y"], x + np.float32(version))


def test_versioned_does_not_serve_version_2_outside_its_specific_policy(client):
    r, _ = add_constant(client, "versioned", 2)
    assert r.status_code in VERSION_NOT_SERVED
    error_message(r)
    assert client.get("/v2/models/versioned/versions/2/ready").status_code != 200


def test_versioned_without_version_routes_to_the_highest_served_version(client):
    r, x = add_constant(client, "versioned", None, seed=1)
    header, out = parse_infer_response(r)
    assert header["model_version"] == "3"
    np.testing.assert_array_equal(out["y"], x + np.float32(3))


def test_versioned_metadata_lists_only_served_versions(client):
    body = client.get("/v2/models/versioned").json()
    assert sorted(body["versions"]) == ["1", "3"]


def test_latest2_serves_the_two_newest_versions(client):
    for version in (2, 3):
        r, x = add_constant(client, "latest2", version, seed=version)
        header, out = parse_infer_response(r)
        assert header["model_version"] == str(version)
        np.testing.assert_array_equal(out["y"], x + np.float32(version))
    assert sorted(client.get("/v2/models/latest2").json()["versions"]) == ["2", "3"]


def test_latest2_does_not_serve_version_1(client):
    r, _ = add_constant(client, "latest2", 1)
    assert r.status_code in VERSION_NOT_SERVED
    error_message(r)
    assert client.get("/v2/models/latest2/versions/1/ready").status_code != 200


def test_unknown_version_infer_is_404(client):
    r, _ = add_constant(client, "versioned", 99)
    assert r.status_code == 404
    error_message(r)
