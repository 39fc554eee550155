"""s3:// model repositories against a real S3-compatible server (npm s3rver, installed by
`npm ci` in tests/deploy), started here: serving from S3 beside a local repository, a wrong key,
a missing bucket, and a model replaced in S3 while it serves (poll mode, by ETag).

s3rver checks the access key id but not SigV4 signatures themselves (its source says so); the
signing is libcurl's, which AWS and other S3 servers check."""

import pathlib
import shutil
import socket
import subprocess
import time

import numpy as np
import onnx
import pytest
import requests
from onnx import TensorProto, helper

from conftest import _free_port, inferd_binary, start_server, stop_server
from kserve_v2 import json_input

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
S3RVER = REPO_ROOT / "tests" / "deploy" / "node_modules" / ".bin" / "s3rver"
EXAMPLES = REPO_ROOT / "examples" / "models"
BUCKET = "models"
KEY = "S3RVER"  # s3rver's built-in account: access key id and secret are both S3RVER


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    if not S3RVER.exists():
        pytest.fail(f"{S3RVER} missing: run `npm ci` in tests/deploy (CTest's deploy.npm_ci)")
    port = _free_port()
    data = tmp_path_factory.mktemp("s3rver")
    log = open(data.parent / f"{data.name}.log", "wb")
    proc = subprocess.Popen([str(S3RVER), "-d", str(data), "-a", "127.0.0.1", "-p", str(port),
                             "--configure-bucket", BUCKET], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "s3rver did not start"
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture
def aws_env(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def put(endpoint, key, path):
    """Uploads `path` as s3://models/<key> with the curl CLI's own SigV4 signing."""
    subprocess.run(["curl", "-sS", "-f", "--aws-sigv4", "aws:amz:us-east-1:s3",
                    "--user", f"{KEY}:{KEY}", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                    "-T", str(path), f"{endpoint}/{BUCKET}/{key}", "-o", "/dev/null"],
                   check=True, timeout=20)


def upload_model(endpoint, prefix, model_dir):
    model_dir = pathlib.Path(model_dir)
    for f in sorted(model_dir.rglob("*")):
        if f.is_file():
            put(endpoint, f"{prefix}/{model_dir.name}/{f.relative_to(model_dir)}", f)


def simple_variant(path, op):
    """An ONNX model with `simple`'s signature whose OUTPUT0 is INPUT0 <op> INPUT1."""
    spec = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["N", 16])
            for n in ("INPUT0", "INPUT1", "OUTPUT0", "OUTPUT1")]
    graph = helper.make_graph([helper.make_node(op, ["INPUT0", "INPUT1"], ["OUTPUT0"]),
                               helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"])],
                              "simple", spec[:2], spec[2:])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))


def infer_simple(base_url):
    a = np.arange(16, dtype=np.float32).reshape(1, 16)
    b = np.full((1, 16), 2, np.float32)
    r = requests.post(f"{base_url}/v2/models/simple/infer", timeout=10,
                      json={"inputs": [json_input("INPUT0", "FP32", a),
                                       json_input("INPUT1", "FP32", b)]})
    assert r.status_code == 200, r.text
    return np.array(r.json()["outputs"][0]["data"], np.float32), a, b


def run_inferd(args, timeout=20):
    return subprocess.run([inferd_binary(), "serve", "--http-port", str(_free_port()),
                           "--grpc-port", "0", *args], capture_output=True, text=True,
                          timeout=timeout)


def test_serves_a_model_from_s3_beside_a_local_repository(s3, aws_env, tmp_path):
    upload_model(s3, "serve", EXAMPLES / "simple")
    local = tmp_path / "local"
    shutil.copytree(EXAMPLES / "mlp", local / "mlp")
    cache = tmp_path / "cache"
    srv = start_server(f"s3://{BUCKET}/serve", tmp_path,
                       ["--model-repository", str(local), "--s3-endpoint", s3,
                        "--model-cache-directory", str(cache)])
    try:
        out, a, b = infer_simple(srv.base_url)
        np.testing.assert_array_equal(out, (a + b).ravel())
        index = requests.post(srv.base_url + "/v2/repository/index", timeout=5).json()
        assert {m["name"]: m["state"] for m in index} == {"simple": "READY", "mlp": "READY"}
        assert (cache / "s3" / BUCKET / "serve" / "simple" / "1" / "model.onnx").is_file()
    finally:
        stop_server(srv)


def test_a_wrong_access_key_stops_the_start_with_an_error_naming_it(s3, aws_env, monkeypatch,
                                                                     tmp_path):
    upload_model(s3, "wrongkey", EXAMPLES / "simple")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "NOT-A-KEY")
    r = run_inferd(["--model-repository", f"s3://{BUCKET}/wrongkey", "--s3-endpoint", s3,
                    "--model-cache-directory", str(tmp_path)])
    assert r.returncode != 0
    assert "InvalidAccessKeyId" in r.stderr + r.stdout
    assert "AWS_ACCESS_KEY_ID" in r.stderr + r.stdout


def test_a_missing_bucket_stops_the_start_with_an_error_naming_it(s3, aws_env, tmp_path):
    r = run_inferd(["--model-repository", "s3://no-such-bucket/models", "--s3-endpoint", s3,
                    "--model-cache-directory", str(tmp_path)])
    assert r.returncode != 0
    out = r.stderr + r.stdout
    assert "NoSuchBucket" in out and "s3://no-such-bucket/models" in out


def test_an_unreachable_endpoint_stops_the_start_with_an_error(aws_env, tmp_path):
    r = run_inferd(["--model-repository", f"s3://{BUCKET}/x", "--s3-endpoint",
                    f"http://127.0.0.1:{_free_port()}", "--model-cache-directory", str(tmp_path)])
    assert r.returncode != 0
    assert "Couldn't connect" in r.stderr + r.stdout


def test_a_model_replaced_in_s3_while_serving_is_picked_up_by_poll(s3, aws_env, tmp_path):
    upload_model(s3, "replace", EXAMPLES / "simple")
    srv = start_server(f"s3://{BUCKET}/replace", tmp_path,
                       ["--s3-endpoint", s3, "--model-cache-directory", str(tmp_path / "cache"),
                        "--model-control-mode", "poll", "--repository-poll-secs", "1"])
    try:
        out, a, b = infer_simple(srv.base_url)
        np.testing.assert_array_equal(out, (a + b).ravel())
        simple_variant(tmp_path / "mul.onnx", "Mul")
        put(s3, "replace/simple/1/model.onnx", tmp_path / "mul.onnx")
        deadline = time.monotonic() + 20
        while True:  # every answer on the way is a correct one, of the old or the new model
            out, a, b = infer_simple(srv.base_url)
            if np.array_equal(out, (a * b).ravel()):
                break
            np.testing.assert_array_equal(out, (a + b).ravel())
            assert time.monotonic() < deadline, "the replaced model was never served"
            time.sleep(0.1)
        # The poll fetched only the object whose ETag changed.
        log = pathlib.Path(srv.log_path).read_text()
        assert "1 of 2 objects downloaded" in log, log[-2000:]
    finally:
        stop_server(srv)
