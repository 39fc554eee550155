"""s3:// model repositories against a real S3-compatible server (npm s3rver, installed by
`npm ci` in tests/deploy), started here: serving from S3 beside a local repository, a wrong key,
a missing bucket, and a model replaced in S3 while it serves (poll mode, by ETag).

s3rver checks the access key id but not SigV4 signatures themselves (its source says so), so the
signature tests put sigv4_proxy.SigV4Proxy, which checks them as S3 does, in front of it."""

import pathlib
import shutil
import socket
import subprocess
import time
import urllib.parse

import numpy as np
import onnx
import pytest
import requests
from onnx import TensorProto, helper

from conftest import _free_port, inferd_binary, start_server, stop_server
from kserve_v2 import json_input
from sigv4_proxy import SigV4Proxy, expected_signature

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
def signed_s3(s3):
    """s3rver behind a proxy that checks SigV4 signatures against the secret KEY."""
    proxy = SigV4Proxy(int(s3.rsplit(":", 1)[1]), KEY)
    yield proxy
    proxy.close()


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
                    "-T", str(path), f"{endpoint}/{BUCKET}/{urllib.parse.quote(key)}",
                    "-o", "/dev/null"],
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


def test_a_missing_bucket_stops_the_start_with_an_error_naming_it(s3, aws_env, monkeypatch,
                                                                   tmp_path):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3)  # the endpoint from the environment this time
    r = run_inferd(["--model-repository", "s3://no-such-bucket/models",
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


def test_the_load_api_in_explicit_mode_sees_a_model_uploaded_after_the_start(s3, aws_env,
                                                                              tmp_path):
    upload_model(s3, "explicit", EXAMPLES / "simple")
    srv = start_server(f"s3://{BUCKET}/explicit", tmp_path,
                       ["--s3-endpoint", s3, "--model-cache-directory", str(tmp_path / "cache"),
                        "--model-control-mode", "explicit"])
    try:
        load = srv.base_url + "/v2/repository/models/{}/load"
        assert requests.post(load.format("mlp"), timeout=10).status_code == 404
        upload_model(s3, "explicit", EXAMPLES / "mlp")
        r = requests.post(load.format("mlp"), timeout=30)
        assert r.status_code == 200, r.text
        assert requests.get(srv.base_url + "/v2/models/mlp/ready", timeout=5).status_code == 200
    finally:
        stop_server(srv)


def test_the_signature_check_reproduces_aws_published_examples():
    # AWS's Signature V4 documentation for S3: GET Object with a Range header, and ListObjects.
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    headers = {"host": "examplebucket.s3.amazonaws.com", "x-amz-date": "20130524T000000Z",
               "x-amz-content-sha256":
                   "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
    get_object = expected_signature(secret, "GET", "/test.txt", {**headers, "range": "bytes=0-9"},
                                    "20130524", "us-east-1",
                                    "host;range;x-amz-content-sha256;x-amz-date")
    assert get_object == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    list_objects = expected_signature(secret, "GET", "/?max-keys=2&prefix=J", headers,
                                      "20130524", "us-east-1",
                                      "host;x-amz-content-sha256;x-amz-date")
    assert list_objects == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"


def test_listing_and_downloads_carry_sigv4_signatures_that_s3_accepts(s3, signed_s3, aws_env,
                                                                      monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SESSION_TOKEN", "a-session-token")
    upload_model(s3, "signed dir", EXAMPLES / "simple")  # a space: the key needs encoding
    srv = start_server(f"s3://{BUCKET}/signed dir", tmp_path,
                       ["--s3-endpoint", signed_s3.endpoint,
                        "--model-cache-directory", str(tmp_path / "cache")])
    try:
        out, a, b = infer_simple(srv.base_url)
        np.testing.assert_array_equal(out, (a + b).ravel())
    finally:
        stop_server(srv)
    paths = [p for p, _ in signed_s3.requests]
    assert any("list-type=2" in p and "prefix=signed%20dir%2F" in p for p in paths), paths
    assert any(p.endswith("/simple/1/model.onnx") for p in paths), paths
    assert all("x-amz-security-token" in h.split(";") for _, h in signed_s3.requests)


def test_a_wrong_secret_key_stops_the_start_with_signature_does_not_match(s3, signed_s3, aws_env,
                                                                          monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    r = run_inferd(["--model-repository", f"s3://{BUCKET}/any", "--s3-endpoint",
                    signed_s3.endpoint, "--model-cache-directory", str(tmp_path)])
    assert r.returncode != 0
    out = r.stderr + r.stdout
    assert "SignatureDoesNotMatch" in out and "AWS_SECRET_ACCESS_KEY" in out


def test_without_credentials_requests_go_unsigned_and_a_private_bucket_refuses_them(
        s3, signed_s3, aws_env, monkeypatch, tmp_path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    r = run_inferd(["--model-repository", f"s3://{BUCKET}/any", "--s3-endpoint",
                    signed_s3.endpoint, "--model-cache-directory", str(tmp_path)])
    assert r.returncode != 0
    assert "AccessDenied" in r.stderr + r.stdout
