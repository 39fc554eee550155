"""Inference on `simple` and on identity_<dtype> for every data type, through JSON and through
the binary tensor extension (inputs, outputs, and mixes of the two)."""

import json

import numpy as np
import pytest

from kserve_v2 import (DTYPE_SAMPLES, HEADER_LENGTH, assert_same_tensor, binary_request,
                       dtype_sample, identity_model, json_input, parse_infer_response)

JSON_DTYPES = [d for d in sorted(DTYPE_SAMPLES) if d != "FP16"]
SAMPLES = DTYPE_SAMPLES
sample = dtype_sample
identity = identity_model


def simple_inputs(batch=1, seed=0):
    rng = np.random.RandomState(seed)
    a = rng.uniform(-10, 10, (batch, 16)).astype(np.float32)
    b = rng.uniform(-10, 10, (batch, 16)).astype(np.float32)
    return a, b


# --- simple, JSON -------------------------------------------------------------------------------

def test_simple_json_infer_adds_and_subtracts(client):
    a, b = simple_inputs()
    r = client.infer("simple", {"inputs": [json_input("INPUT0", "FP32", a),
                                           json_input("INPUT1", "FP32", b)]})
    header, out = parse_infer_response(r)
    assert header["model_name"] == "simple"
    assert header["model_version"] == "1"
    assert {o["name"] for o in header["outputs"]} == {"OUTPUT0", "OUTPUT1"}
    for o in header["outputs"]:
        assert o["datatype"] == "FP32" and o["shape"] == [1, 16]
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def test_simple_json_infer_accepts_nested_data_arrays(client):
    a, b = simple_inputs(batch=3, seed=1)
    body = {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [3, 16], "data": a.tolist()},
        {"name": "INPUT1", "datatype": "FP32", "shape": [3, 16], "data": b.tolist()}]}
    _, out = parse_infer_response(client.infer("simple", body))
    assert out["OUTPUT0"].shape == (3, 16)
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def test_simple_json_infer_at_max_batch_size(client):
    a, b = simple_inputs(batch=8, seed=2)
    r = client.infer("simple", {"inputs": [json_input("INPUT0", "FP32", a),
                                           json_input("INPUT1", "FP32", b)]})
    _, out = parse_infer_response(r)
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)


def test_infer_response_echoes_the_request_id(client):
    a, b = simple_inputs()
    r = client.infer("simple", {"id": "req-42", "inputs": [json_input("INPUT0", "FP32", a),
                                                           json_input("INPUT1", "FP32", b)]})
    header, _ = parse_infer_response(r)
    assert header["id"] == "req-42"


def test_infer_returns_only_the_requested_output(client):
    a, b = simple_inputs(seed=3)
    r = client.infer("simple", {"inputs": [json_input("INPUT0", "FP32", a),
                                           json_input("INPUT1", "FP32", b)],
                                "outputs": [{"name": "OUTPUT1"}]})
    header, out = parse_infer_response(r)
    assert [o["name"] for o in header["outputs"]] == ["OUTPUT1"]
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def test_infer_on_explicit_version_url_reports_that_version(client):
    a, b = simple_inputs(seed=4)
    r = client.infer("simple", {"inputs": [json_input("INPUT0", "FP32", a),
                                           json_input("INPUT1", "FP32", b)]}, version=1)
    header, out = parse_infer_response(r)
    assert header["model_version"] == "1"
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)


# --- simple, binary -----------------------------------------------------------------------------

def test_simple_binary_inputs_and_outputs(client):
    a, b = simple_inputs(batch=2, seed=5)
    body, headers = binary_request([("INPUT0", "FP32", a), ("INPUT1", "FP32", b)],
                                   outputs=["OUTPUT0", "OUTPUT1"])
    r = client.infer("simple", body, headers=headers)
    assert HEADER_LENGTH.lower() in {k.lower() for k in r.headers}
    header, out = parse_infer_response(r)
    for o in header["outputs"]:
        assert "data" not in o and o["parameters"]["binary_data_size"] == 2 * 16 * 4
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def test_binary_data_output_request_parameter_makes_every_output_binary(client):
    a, b = simple_inputs(seed=6)
    header = {"inputs": [json_input("INPUT0", "FP32", a), json_input("INPUT1", "FP32", b)],
              "parameters": {"binary_data_output": True}}
    r = client.infer("simple", header)
    assert r.headers.get(HEADER_LENGTH) is not None, "binary_data_output ignored"
    head, out = parse_infer_response(r)
    assert all("binary_data_size" in o["parameters"] for o in head["outputs"])
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def test_binary_inputs_with_json_outputs(client):
    a, b = simple_inputs(seed=7)
    body, headers = binary_request([("INPUT0", "FP32", a), ("INPUT1", "FP32", b)],
                                   outputs=["OUTPUT0", "OUTPUT1"], binary_outputs=False)
    r = client.infer("simple", body, headers=headers)
    head, out = parse_infer_response(r)
    assert all("data" in o for o in head["outputs"])
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)


def test_one_binary_input_mixed_with_one_json_input(client):
    a, b = simple_inputs(seed=8)
    blob = a.tobytes()
    head = {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
         "parameters": {"binary_data_size": len(blob)}},
        json_input("INPUT1", "FP32", b)],
        "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}},
                    {"name": "OUTPUT1", "parameters": {"binary_data": False}}]}
    head_bytes = json.dumps(head).encode()
    r = client.infer("simple", head_bytes + blob,
                     headers={HEADER_LENGTH: str(len(head_bytes)),
                              "Content-Type": "application/octet-stream"})
    h, out = parse_infer_response(r)
    by_name = {o["name"]: o for o in h["outputs"]}
    assert "binary_data_size" in by_name["OUTPUT0"]["parameters"]
    assert "data" in by_name["OUTPUT1"]
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


# --- every data type ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", JSON_DTYPES)
def test_identity_round_trips_every_dtype_through_json_exactly(client, dtype):
    x = sample(dtype)
    r = client.infer(identity(dtype), {"inputs": [json_input("INPUT0", dtype, x)]})
    header, out = parse_infer_response(r)
    assert header["outputs"][0]["datatype"] == dtype
    assert header["outputs"][0]["shape"] == [2, 3]
    assert_same_tensor(out["OUTPUT0"], x, dtype)


def test_fp16_through_json_either_round_trips_or_is_refused_with_400(client):
    # Triton refuses FP16 JSON input (binary only); a server that accepts it must be exact.
    x = sample("FP16")
    r = client.infer("identity_fp16", {"inputs": [json_input("INPUT0", "FP16", x)]})
    if r.status_code == 400:
        assert "error" in r.json()
        return
    _, out = parse_infer_response(r)
    assert_same_tensor(out["OUTPUT0"], x, "FP16")


@pytest.mark.parametrize("dtype", sorted(SAMPLES))
def test_identity_round_trips_every_dtype_through_binary_exactly(client, dtype):
    x = sample(dtype)
    body, headers = binary_request([("INPUT0", dtype, x)], outputs=["OUTPUT0"])
    header, out = parse_infer_response(client.infer(identity(dtype), body, headers=headers))
    assert header["outputs"][0]["datatype"] == dtype
    assert header["outputs"][0]["shape"] == [2, 3]
    assert_same_tensor(out["OUTPUT0"], x, dtype)


@pytest.mark.parametrize("dtype", JSON_DTYPES)
def test_identity_binary_input_answers_json_output(client, dtype):
    x = sample(dtype)
    body, headers = binary_request([("INPUT0", dtype, x)], outputs=["OUTPUT0"],
                                   binary_outputs=False)
    _, out = parse_infer_response(client.infer(identity(dtype), body, headers=headers))
    assert_same_tensor(out["OUTPUT0"], x, dtype)


def test_bytes_binary_round_trip_keeps_non_utf8_and_nul_bytes(client):
    x = np.array([[b"\x00\xff\xfe", b"", b"a\x00b"]], dtype=np.object_)
    body, headers = binary_request([("INPUT0", "BYTES", x)], outputs=["OUTPUT0"])
    _, out = parse_infer_response(client.infer("identity_bytes", body, headers=headers))
    assert out["OUTPUT0"].tolist() == x.tolist()


def test_identity_accepts_a_different_inner_dim_per_request(client):
    for n in (1, 5, 17):
        x = np.arange(n, dtype=np.int32).reshape(1, n)
        _, out = parse_infer_response(
            client.infer("identity_int32", {"inputs": [json_input("INPUT0", "INT32", x)]}))
        np.testing.assert_array_equal(out["OUTPUT0"], x)


def test_bf16_identity_round_trips_through_binary_or_is_cleanly_unavailable(client):
    """identity_bf16 loads only if ONNX Runtime has a bfloat16 Identity kernel; either it
    answers with the exact bits or it is refused as not ready - never a wrong answer."""
    bits = (np.array([[1.0, -2.5, 3.140625], [0.0, 65280.0, -0.0078125]], np.float32)
            .view(np.uint32) >> 16).astype("<u2")
    head = {"inputs": [{"name": "INPUT0", "datatype": "BF16", "shape": [2, 3],
                        "parameters": {"binary_data_size": bits.nbytes}}],
            "outputs": [{"name": "OUTPUT0", "parameters": {"binary_data": True}}]}
    head_bytes = json.dumps(head).encode()
    r = client.infer("identity_bf16", head_bytes + bits.tobytes(),
                     headers={HEADER_LENGTH: str(len(head_bytes))})
    if client.get("/v2/models/identity_bf16/ready").status_code != 200:
        assert r.status_code in (400, 404, 503), r.status_code
        assert "identity_bf16" in r.json()["error"]
        return
    assert r.status_code == 200, r.text
    header_len = int(r.headers[HEADER_LENGTH])
    header = json.loads(r.content[:header_len])
    assert header["outputs"][0]["datatype"] == "BF16"
    assert header["outputs"][0]["shape"] == [2, 3]
    assert r.content[header_len:] == bits.tobytes()
