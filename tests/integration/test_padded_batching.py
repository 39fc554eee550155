"""Padded, shape-bucketed batching (issue #18) against a real server, over HTTP and gRPC: requests
of different lengths meet in one engine execution, each gets answers computed on its own length
(outputs that follow the length cut back, the model fed the true lengths), a request beyond the
last bucket batches only with its own length, and bad requests get a 400 / INVALID_ARGUMENT that
names the inputs. Model: scripts/make_parity_models.py's padded_encoder."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest

from conftest import REPO_ROOT, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from make_parity_models import PADDED_VOCAB, padded_encoder_weights  # noqa: E402

TIMEOUT_S = 20
MODEL = "padded_encoder"
MAKE_PARITY_MODELS = REPO_ROOT / "scripts" / "make_parity_models.py"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    repo = tmp_path_factory.mktemp("padded_models")
    subprocess.run([sys.executable, str(MAKE_PARITY_MODELS), str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    s = start_server(repo, tmp_path_factory.mktemp("padded_log"),
                     ["--model-control-mode", "explicit", "--load-model", MODEL])
    yield s
    stop_server(s)


def expected(tokens, scale):
    """The model's answer for one unpadded request, computed in numpy."""
    embedding, dense = padded_encoder_weights()
    per_token = np.maximum((embedding[tokens] * scale[..., None]) @ dense, 0)
    return per_token, per_token.mean(axis=1)


def sample(length, seed, rows=1):
    rng = np.random.RandomState(seed)
    tokens = rng.randint(0, PADDED_VOCAB, size=(rows, length)).astype(np.int64)
    scale = rng.uniform(0.5, 2, size=(rows, length)).astype(np.float32)
    return tokens, scale


def http_infer(http, tokens, scale):
    body = {"inputs": [
        {"name": "tokens", "datatype": "INT64", "shape": list(tokens.shape),
         "data": tokens.flatten().tolist()},
        {"name": "scale", "datatype": "FP32", "shape": list(scale.shape),
         "data": scale.flatten().tolist()}]}
    r = http.infer(MODEL, body)
    assert r.status_code == 200, r.text
    out = {o["name"]: np.array(o["data"], dtype=np.float32).reshape(o["shape"])
           for o in r.json()["outputs"]}
    return out["per_token"], out["pooled"]


def stats(http):
    return http.get(f"/v2/models/{MODEL}/stats").json()["model_stats"][0]


def check(answer, tokens, scale):
    per_token, pooled = answer
    want_tokens, want_pooled = expected(tokens, scale)
    assert per_token.shape == want_tokens.shape
    np.testing.assert_allclose(per_token, want_tokens, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pooled, want_pooled, rtol=1e-5, atol=1e-5)


def test_requests_of_different_lengths_batch_and_get_their_own_answers(http):
    before = stats(http)
    lengths = [1, 3, 5, 8, 2, 7]  # one bucket (8); two requests of two rows
    samples = [sample(n, seed, rows=2 if seed % 3 == 0 else 1) for seed, n in enumerate(lengths)]
    with ThreadPoolExecutor(len(samples)) as pool:
        answers = list(pool.map(lambda s: http_infer(http, *s), samples))
    for answer, (tokens, scale) in zip(answers, samples):
        check(answer, tokens, scale)
    after = stats(http)
    executions = after["execution_count"] - before["execution_count"]
    assert executions < len(samples), "the bucket's requests should have met in a batch"


def test_a_request_beyond_the_last_bucket_is_answered_on_its_own_length(http):
    tokens, scale = sample(21, seed=40)
    check(http_infer(http, tokens, scale), tokens, scale)


def test_padded_batching_over_grpc(stub):
    samples = [sample(n, seed) for seed, n in enumerate([9, 16, 12], start=50)]

    def call(s):
        tokens, scale = s
        req = make_infer_request(MODEL, [("tokens", "INT64", tokens), ("scale", "FP32", scale)])
        out = parse_infer_response(stub.ModelInfer(req, timeout=TIMEOUT_S))
        return out["per_token"], out["pooled"]

    with ThreadPoolExecutor(len(samples)) as pool:
        answers = list(pool.map(call, samples))
    for answer, s in zip(answers, samples):
        check(answer, *s)


def test_padded_inputs_of_different_lengths_are_a_400_naming_them(http, stub):
    tokens, _ = sample(4, seed=60)
    _, scale = sample(5, seed=61)
    body = {"inputs": [
        {"name": "tokens", "datatype": "INT64", "shape": [1, 4], "data": tokens.flatten().tolist()},
        {"name": "scale", "datatype": "FP32", "shape": [1, 5], "data": scale.flatten().tolist()}]}
    r = http.infer(MODEL, body)
    assert r.status_code == 400
    assert "'tokens' (length 4) and 'scale' (length 5)" in r.json()["error"]
    req = make_infer_request(MODEL, [("tokens", "INT64", tokens), ("scale", "FP32", scale)])
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(req, timeout=TIMEOUT_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "must have the same length" in info.value.details()


def test_the_lengths_input_is_not_the_clients(http):
    tokens, scale = sample(3, seed=70)
    body = {"inputs": [
        {"name": "tokens", "datatype": "INT64", "shape": [1, 3], "data": tokens.flatten().tolist()},
        {"name": "scale", "datatype": "FP32", "shape": [1, 3], "data": scale.flatten().tolist()},
        {"name": "lengths", "datatype": "INT64", "shape": [1], "data": [3]}]}
    r = http.infer(MODEL, body)
    assert r.status_code == 400
    assert "'lengths'" in r.json()["error"]
    # The model's metadata and config list only what clients send.
    metadata = http.get(f"/v2/models/{MODEL}").json()
    assert [i["name"] for i in metadata["inputs"]] == ["tokens", "scale"]
