"""Nothing from a request reaches the filesystem unchecked (docs/security.md): model names
that climb or name absolute paths are refused, and a load request's config override cannot
point the model file outside its model directory."""

import json

import pytest


@pytest.mark.parametrize("name", ["%2E%2E", "a%2Fb", "%2Fetc%2Fpasswd", "..%2F..%2Fetc"])
def test_model_names_that_are_paths_are_refused(client, name):
    for method, path in [("GET", f"/v2/models/{name}"),
                         ("POST", f"/v2/repository/models/{name}/load"),
                         ("POST", f"/v2/models/{name}/infer")]:
        r = client.request(method, path, json={})
        assert r.status_code in (400, 404), (method, path, r.status_code)
        assert "error" in r.json()


@pytest.mark.parametrize("filename", ["../simple/1/model.onnx", "/etc/passwd",
                                      "sub/../../../etc/passwd"])
def test_a_config_override_cannot_name_a_file_outside_the_model(client, filename):
    override = {"name": "mlp", "platform": "onnxruntime_onnx", "max_batch_size": 8,
                "default_model_filename": filename}
    r = client.post("/v2/repository/models/mlp/load",
                    json={"parameters": {"config": json.dumps(override)}})
    assert r.status_code == 400, r.text
    assert "relative path inside the model directory" in r.json()["error"]
    assert client.get("/v2/models/mlp/ready").status_code == 200
