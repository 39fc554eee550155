"""The SentencePiece tokenizer processor (backend "sentencepiece") through a real server: a tiny
model is trained at test time with Debian's python3-sentencepiece, and the server's ids equal
the Python library's for the same texts — truncated and padded to max_length with an attention
mask, or padded to the batch's longest text — over HTTP and gRPC, alone and as the first step
of an ensemble whose ONNX model counts the tokens. Bad configs fail the model's load with a
message naming the parameter."""

import pathlib
import sys

import numpy as np
import pytest
import requests
from onnx import TensorProto, helper

from conftest import Client, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response
from kserve_v2 import error_message, json_input, parse_infer_response as parse_http
from test_ensembles import step

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "scripts"))
import make_models  # noqa: E402

spm = pytest.importorskip("sentencepiece")

TIMEOUT_S = 20
CORPUS = ["the quick brown fox jumps over the lazy dog", "hello world from inferd",
          "a tokenizer turns text into ids", "servers answer requests quickly"]
TEXTS = ["hello world", "the lazy dog answers quickly", "",
         "a quick brown fox jumps over the lazy dog and the quick brown fox jumps again"]


def params(**kv):
    return "".join(f'parameters {{ key: "{k}" value {{ string_value: "{v}" }} }}\n'
                   for k, v in kv.items())


def count_model():
    """COUNT = sum(mask) per row: INT64 [batch, 16] -> INT64 [batch, 1]."""
    graph = helper.make_graph(
        [helper.make_node("ReduceSum", ["mask", "axes"], ["count"], keepdims=1)], "count",
        [helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", 16])],
        [helper.make_tensor_value_info("count", TensorProto.INT64, ["batch", 1])],
        initializer=[helper.make_tensor("axes", TensorProto.INT64, [1], [1])])
    return make_models.make_model(graph)


@pytest.fixture(scope="module")
def sp_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("spm")
    (d / "corpus.txt").write_text("\n".join(CORPUS * 50))
    spm.SentencePieceTrainer.train(input=str(d / "corpus.txt"), model_prefix=str(d / "tiny"),
                                   vocab_size=40, model_type="unigram", minloglevel=2,
                                   pad_id=0, unk_id=1, bos_id=2, eos_id=3)
    return d / "tiny.model"


@pytest.fixture(scope="module")
def srv(sp_model, tmp_path_factory):
    root = tmp_path_factory.mktemp("tokenizer_models")
    models = {
        "tok": 'backend: "sentencepiece"\n' + params(max_length=16, add_eos="true"),
        "tok_longest": 'backend: "sentencepiece"\nmax_batch_size: 4\n'
                       'output { name: "INPUT_IDS" data_type: TYPE_INT32 dims: [ -1 ] }\n'
                       'output { name: "ATTENTION_MASK" data_type: TYPE_INT32 dims: [ -1 ] }\n'
                       + params(max_length=64, padding="longest", add_bos="true"),
        "tok16": 'backend: "sentencepiece"\nmax_batch_size: 4\n' + params(max_length=16),
        "bad_length": 'backend: "sentencepiece"\n' + params(max_length="zero"),
        "bad_dims": 'backend: "sentencepiece"\n'
                    'output { name: "INPUT_IDS" data_type: TYPE_INT64 dims: [ 8 ] }\n'
                    + params(max_length=16),
    }
    for name, config in models.items():
        (root / name / "1").mkdir(parents=True)
        (root / name / "1" / "tokenizer.model").write_bytes(sp_model.read_bytes())
        (root / name / "config.pbtxt").write_text(f'name: "{name}"\n{config}')
    (root / "count" / "1").mkdir(parents=True)
    (root / "count" / "1" / "model.onnx").write_bytes(count_model().SerializeToString())
    (root / "count" / "config.pbtxt").write_text('name: "count" platform: "onnxruntime_onnx"\n'
                                                 "max_batch_size: 4\n")
    (root / "count_tokens").mkdir()
    (root / "count_tokens" / "config.pbtxt").write_text(
        'name: "count_tokens"\nplatform: "ensemble"\nmax_batch_size: 4\n'
        'input { name: "TEXT" data_type: TYPE_STRING dims: [ 1 ] }\n'
        'output { name: "COUNT" data_type: TYPE_INT64 dims: [ 1 ] }\n'
        "ensemble_scheduling {\n  step [\n    "
        + step("tok16", {"TEXT": "TEXT"}, {"ATTENTION_MASK": "MASK"}) + ",\n    "
        + step("count", {"mask": "MASK"}, {"count": "COUNT"}) + "\n  ]\n}\n")
    server = start_server(root, tmp_path_factory.mktemp("tokenizer_log"))
    index = requests.post(server.base_url + "/v2/repository/index", json={},
                          timeout=TIMEOUT_S).json()
    reasons = {m["name"]: m.get("reason", "") for m in index}
    if "sanitizer builds" in reasons.get("tok", ""):
        stop_server(server)
        pytest.skip(reasons["tok"])
    server.reasons = reasons
    yield server
    stop_server(server)


def expected(sp_model, text, max_length, bos=False, eos=False):
    sp = spm.SentencePieceProcessor(model_file=str(sp_model))
    ids = sp.encode(text)[:max_length - bos - eos]
    return [2] * bos + ids + [3] * eos


def padded(ids, length):
    return ids + [0] * (length - len(ids)), [1] * len(ids) + [0] * (length - len(ids))


def test_ids_and_mask_equal_sentencepieces_own_over_http(srv, sp_model):
    c = Client(srv.base_url)
    for text in TEXTS:
        r = c.infer("tok", {"inputs": [json_input("TEXT", "BYTES", [text])]})
        outputs = parse_http(r)[1]
        ids, mask = padded(expected(sp_model, text, 16, eos=True), 16)
        assert outputs["INPUT_IDS"].dtype == np.int64 and outputs["INPUT_IDS"].shape == (16,)
        assert outputs["INPUT_IDS"].tolist() == ids, text
        assert outputs["ATTENTION_MASK"].tolist() == mask, text


def test_a_batch_pads_to_its_longest_text_over_grpc(srv, sp_model, stub):
    texts = np.array([[t.encode()] for t in TEXTS[:2]], dtype=np.object_)
    resp = stub.ModelInfer(make_infer_request("tok_longest", [("TEXT", "BYTES", texts)]),
                           timeout=TIMEOUT_S)
    outputs = parse_infer_response(resp)
    want = [expected(sp_model, t, 64, bos=True) for t in TEXTS[:2]]
    longest = max(len(w) for w in want)
    assert outputs["INPUT_IDS"].dtype == np.int32 and outputs["ATTENTION_MASK"].dtype == np.int32
    assert outputs["INPUT_IDS"].shape == (2, longest)
    assert outputs["INPUT_IDS"].tolist() == [padded(w, longest)[0] for w in want]
    assert outputs["ATTENTION_MASK"].tolist() == [padded(w, longest)[1] for w in want]


def test_the_tokenizer_feeds_a_model_in_an_ensemble(srv, sp_model, stub):
    c = Client(srv.base_url)
    r = c.infer("count_tokens", {"inputs": [json_input("TEXT", "BYTES", [[TEXTS[3]]])]})
    want = len(expected(sp_model, TEXTS[3], 16))
    assert want == 16  # truncated at max_length
    assert parse_http(r)[1]["COUNT"].tolist() == [[want]]
    texts = np.array([[TEXTS[0].encode()]], dtype=np.object_)
    resp = stub.ModelInfer(make_infer_request("count_tokens", [("TEXT", "BYTES", texts)]),
                           timeout=TIMEOUT_S)
    assert parse_infer_response(resp)["COUNT"].tolist() == [[len(expected(sp_model, TEXTS[0],
                                                                           16))]]


def test_two_texts_in_one_unbatched_request_are_a_400(srv):
    r = Client(srv.base_url).infer("tok", {"inputs": [json_input("TEXT", "BYTES", ["a", "b"])]})
    assert r.status_code == 400, r.text


def test_bad_configs_fail_the_load_naming_the_parameter(srv):
    assert "parameters.max_length 'zero'" in srv.reasons["bad_length"]
    assert "output 'INPUT_IDS' has dims [8]" in srv.reasons["bad_dims"]
