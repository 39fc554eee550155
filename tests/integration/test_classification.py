"""The classification extension: top-k scores with labels instead of the raw output, over HTTP
(JSON and binary) and gRPC, checked against the model's own probabilities."""

import json

import numpy as np
import requests

from kserve_v2 import error_message, json_input, parse_infer_response


def mlp_probabilities(url, x):
    body = {"inputs": [json_input("input", "FP32", x)], "outputs": [{"name": "probabilities"}]}
    r = requests.post(f"{url}/v2/models/mlp/infer", json=body, timeout=10)
    assert r.status_code == 200, r.text
    out = r.json()["outputs"][0]
    return np.array(out["data"], np.float32).reshape(out["shape"])


def expected_top(probabilities, labels, k):
    rows = []
    for row in probabilities:
        order = sorted(range(len(row)), key=lambda c: (-row[c], c))[:k]
        rows.append([(c, labels[c]) for c in order])
    return rows


def test_classification_returns_the_top_k_labels_in_order(server, model_repo):
    labels = (model_repo / "mlp" / "labels.txt").read_text().splitlines()
    x = np.random.RandomState(3).standard_normal((4, 64)).astype(np.float32)
    probs = mlp_probabilities(server.base_url, x)
    body = {"inputs": [json_input("input", "FP32", x)],
            "outputs": [{"name": "probabilities", "parameters": {"classification": 3}}]}
    r = requests.post(f"{server.base_url}/v2/models/mlp/infer", json=body, timeout=10)
    assert r.status_code == 200, r.text
    out = r.json()["outputs"][0]
    assert out["datatype"] == "BYTES" and out["shape"] == [4, 3]
    got = [out["data"][i * 3:(i + 1) * 3] for i in range(4)]
    for row, want, p in zip(got, expected_top(probs, labels, 3), probs):
        parsed = [e.split(":") for e in row]
        assert [(int(idx), label) for _, idx, label in parsed] == want
        for score, idx, _ in parsed:
            assert abs(float(score) - p[int(idx)]) < 1e-5


def test_classification_works_with_binary_outputs(server):
    x = np.ones((1, 64), np.float32)
    header = {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 64],
                          "parameters": {"binary_data_size": x.nbytes}}],
              "outputs": [{"name": "probabilities",
                           "parameters": {"classification": 2, "binary_data": True}}]}
    head = json.dumps(header).encode()
    r = requests.post(f"{server.base_url}/v2/models/mlp/infer", data=head + x.tobytes(),
                      headers={"Inference-Header-Content-Length": str(len(head))}, timeout=10)
    assert r.status_code == 200, r.text
    _, outputs = parse_infer_response(r)
    arr = outputs["probabilities"]
    assert arr.shape == (1, 2)
    assert all(len(e.split(b":")) == 3 for e in arr.ravel())


def test_a_bad_classification_parameter_is_a_400(server):
    body = {"inputs": [json_input("input", "FP32", np.ones((1, 64), np.float32))],
            "outputs": [{"name": "probabilities", "parameters": {"classification": -1}}]}
    r = requests.post(f"{server.base_url}/v2/models/mlp/infer", json=body, timeout=10)
    assert r.status_code == 400
    assert "classification" in error_message(r)
