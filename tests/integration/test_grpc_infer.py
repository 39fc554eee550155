"""ModelInfer and ModelStreamInfer through stubs generated from src/grpc/grpc_service.proto:
every datatype through typed and raw contents, requested outputs and ids, identical answers
from the HTTP frontend, malformed requests answered with the right code while the server keeps
serving, and streams with many requests in flight."""

import concurrent.futures
import time

import grpc
import numpy as np
import pytest
import requests

from grpc_client import make_infer_request, parse_infer_response, stubs
from kserve_v2 import (DTYPE_SAMPLES, assert_same_tensor, binary_request, dtype_sample,
                       identity_model, json_input, to_bytes_elements)
from kserve_v2 import parse_infer_response as parse_http_response

TIMEOUT_S = 20

TYPED_DTYPES = [d for d in sorted(DTYPE_SAMPLES) if d != "FP16"]
SAMPLES = DTYPE_SAMPLES
sample = dtype_sample
identity = identity_model


@pytest.fixture(scope="module")
def stub(grpc_target):
    ch = grpc.insecure_channel(grpc_target)
    grpc.channel_ready_future(ch).result(timeout=TIMEOUT_S)
    yield stubs().rpc.GRPCInferenceServiceStub(ch)
    ch.close()


def infer(stub, *args, **kwargs):
    return stub.ModelInfer(make_infer_request(*args, **kwargs), timeout=TIMEOUT_S)


def infer_error(stub, request):
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(request, timeout=TIMEOUT_S)
    return info.value


def mlp_input(batch=1, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (batch, 64)).astype(np.float32)


# --- every datatype ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", sorted(SAMPLES))
def test_identity_round_trips_every_dtype_through_raw_contents(stub, dtype):
    x = sample(dtype)
    resp = infer(stub, identity(dtype), [("INPUT0", dtype, x)], raw=True)
    assert resp.model_name == identity(dtype) and resp.model_version == "1"
    assert [(o.name, o.datatype, list(o.shape)) for o in resp.outputs] == \
        [("OUTPUT0", dtype, [2, 3])]
    assert_same_tensor(parse_infer_response(resp)["OUTPUT0"], x, dtype)


@pytest.mark.parametrize("dtype", TYPED_DTYPES)
def test_identity_round_trips_every_dtype_through_typed_contents(stub, dtype):
    x = sample(dtype)
    resp = infer(stub, identity(dtype), [("INPUT0", dtype, x)], raw=False)
    # Outputs come back raw whatever the input form, as Triton's do.
    assert len(resp.raw_output_contents) == 1
    assert_same_tensor(parse_infer_response(resp)["OUTPUT0"], x, dtype)


def test_fp16_has_no_typed_field_and_must_be_raw(stub):
    pb = stubs().pb
    req = pb.ModelInferRequest(model_name="identity_fp16")
    t = req.inputs.add(name="INPUT0", datatype="FP16", shape=[1, 1])
    t.contents.fp32_contents.append(1.0)
    err = infer_error(stub, req)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "raw_input_contents" in err.details() and "INPUT0" in err.details()


def test_bf16_round_trips_through_raw_contents_or_is_cleanly_unavailable(stub):
    """identity_bf16 loads only if ONNX Runtime has a bfloat16 Identity kernel."""
    pb = stubs().pb
    bits = np.array([[0x3F80, 0xC000, 0x7F80]], dtype="<u2")  # 1.0, -2.0, +inf
    req = pb.ModelInferRequest(model_name="identity_bf16")
    req.inputs.add(name="INPUT0", datatype="BF16", shape=[1, 3])
    req.raw_input_contents.append(bits.tobytes())
    if not stub.ModelReady(pb.ModelReadyRequest(name="identity_bf16"), timeout=TIMEOUT_S).ready:
        err = infer_error(stub, req)
        assert err.code() == grpc.StatusCode.UNAVAILABLE
        return
    resp = stub.ModelInfer(req, timeout=TIMEOUT_S)
    assert resp.outputs[0].datatype == "BF16"
    assert resp.raw_output_contents[0] == bits.tobytes()


# --- request features -------------------------------------------------------------------------

def test_simple_adds_and_subtracts_and_echoes_the_id(stub):
    rng = np.random.RandomState(3)
    a = rng.uniform(-10, 10, (3, 16)).astype(np.float32)
    b = rng.uniform(-10, 10, (3, 16)).astype(np.float32)
    resp = infer(stub, "simple", [("INPUT0", "FP32", a), ("INPUT1", "FP32", b)],
                 request_id="req-42", version="1", parameters={"note": "x"})
    assert resp.id == "req-42"
    out = parse_infer_response(resp)
    np.testing.assert_array_equal(out["OUTPUT0"], a + b)
    np.testing.assert_array_equal(out["OUTPUT1"], a - b)


def test_requested_outputs_are_returned_in_the_order_asked(stub):
    x = mlp_input(batch=2)
    resp = infer(stub, "mlp", [("input", "FP32", x)], outputs=["probabilities"])
    assert [o.name for o in resp.outputs] == ["probabilities"]
    probs = parse_infer_response(resp)["probabilities"]
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    resp = infer(stub, "mlp", [("input", "FP32", x)], outputs=["probabilities", "logits"])
    assert [o.name for o in resp.outputs] == ["probabilities", "logits"]


def test_text_model_through_typed_bytes(stub):
    x = to_bytes_elements(np.array([["abc", "x y", ""]], dtype=np.object_))
    resp = infer(stub, "text_upper", [("text", "BYTES", x)], raw=False)
    assert parse_infer_response(resp)["upper"].tolist() == [[b"ABC", b"X Y", b""]]


# --- same answers as HTTP ---------------------------------------------------------------------

def http_outputs(client, model, inputs, binary=True):
    if binary:
        body, headers = binary_request(inputs)
        return parse_http_response(client.infer(model, body, headers=headers))[1]
    body = {"inputs": [json_input(n, d, a) for n, d, a in inputs]}
    return parse_http_response(client.infer(model, body))[1]


CASES = [
    ("mlp", [("input", "FP32", mlp_input(batch=4, seed=7))]),
    ("simple", [("INPUT0", "FP32", np.arange(32, dtype=np.float32).reshape(2, 16)),
                ("INPUT1", "FP32", np.full((2, 16), 0.5, dtype=np.float32))]),
    ("text_upper", [("text", "BYTES", to_bytes_elements(np.array([["a", "bc"]], dtype=object)))]),
] + [(identity(d), [("INPUT0", d, sample(d))]) for d in sorted(SAMPLES)]


@pytest.mark.parametrize("model,inputs", CASES, ids=[c[0] for c in CASES])
def test_grpc_and_http_give_identical_outputs(stub, client, model, inputs):
    grpc_raw = parse_infer_response(infer(stub, model, inputs, raw=True))
    http_bin = http_outputs(client, model, inputs, binary=True)
    answers = {"grpc raw": grpc_raw, "http binary": http_bin}
    if all(d != "FP16" for _, d, _ in inputs):  # neither JSON nor typed contents carry FP16
        answers["grpc typed"] = parse_infer_response(infer(stub, model, inputs, raw=False))
        answers["http json"] = http_outputs(client, model, inputs, binary=False)
    for how, outputs in answers.items():
        assert outputs.keys() == http_bin.keys(), how
        for name, want in http_bin.items():
            got = outputs[name]
            assert got.shape == want.shape and got.dtype == want.dtype, (how, name)
            if want.dtype == object:
                assert got.tolist() == want.tolist(), (how, name)
            else:
                assert got.tobytes() == want.tobytes(), (how, name)


# --- malformed requests -----------------------------------------------------------------------

def raw_request(model, name, datatype, shape, raw):
    pb = stubs().pb
    req = pb.ModelInferRequest(model_name=model)
    req.inputs.add(name=name, datatype=datatype, shape=shape)
    req.raw_input_contents.append(raw)
    return req


def test_wrong_shape_is_invalid_argument_naming_the_input(stub, client):
    x = np.zeros((1, 63), dtype=np.float32)
    err = infer_error(stub, make_infer_request("mlp", [("input", "FP32", x)]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "input" in err.details()
    body, headers = binary_request([("input", "FP32", x)])
    assert client.infer("mlp", body, headers=headers).status_code == 400


def test_raw_content_size_mismatch_is_invalid_argument(stub):
    err = infer_error(stub, raw_request("mlp", "input", "FP32", [1, 64], b"\0" * 255))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'input'" in err.details() and "255 bytes" in err.details()


def test_typed_count_mismatch_and_out_of_range_values(stub):
    pb = stubs().pb
    req = pb.ModelInferRequest(model_name="identity_int8")
    t = req.inputs.add(name="INPUT0", datatype="INT8", shape=[1, 3])
    t.contents.int_contents.extend([1, 2])
    err = infer_error(stub, req)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "int_contents has 2 elements" in err.details()
    t.contents.int_contents.append(300)
    err = infer_error(stub, req)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "out of range for INT8" in err.details()


def test_wrong_datatype_is_invalid_argument(stub, client):
    x = np.zeros((1, 64), dtype=np.float64)
    err = infer_error(stub, make_infer_request("mlp", [("input", "FP64", x)]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    body, headers = binary_request([("input", "FP64", x)])
    assert client.infer("mlp", body, headers=headers).status_code == 400


def test_unknown_model_is_not_found_and_unloadable_model_unavailable(stub, client):
    x = mlp_input()
    err = infer_error(stub, make_infer_request("no_such_model", [("input", "FP32", x)]))
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert "no_such_model" in err.details()
    err = infer_error(stub, make_infer_request("broken", [("input", "FP32", x)]))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    body, headers = binary_request([("input", "FP32", x)])
    assert client.infer("broken", body, headers=headers).status_code == 503


def test_bad_version_and_unknown_version(stub):
    x = mlp_input()
    err = infer_error(stub, make_infer_request("mlp", [("input", "FP32", x)], version="v1"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "model_version 'v1'" in err.details()
    err = infer_error(stub, make_infer_request("mlp", [("input", "FP32", x)], version="42"))
    assert err.code() == grpc.StatusCode.NOT_FOUND


def test_server_keeps_serving_after_malformed_requests(stub):
    for _ in range(3):
        infer_error(stub, raw_request("mlp", "input", "FP32", [1, 64], b"\0"))
        infer_error(stub, raw_request("mlp", "input", "NOPE", [1, 64], b"\0"))
    resp = infer(stub, "mlp", [("input", "FP32", mlp_input())])
    assert len(resp.outputs) == 2


# --- streaming --------------------------------------------------------------------------------

def stream_requests(n, bad_every=0, seed=0):
    reqs, expected = [], {}
    for i in range(n):
        rid = f"s{seed}-{i}"
        if bad_every and i % bad_every == bad_every - 1:
            reqs.append(raw_request("mlp", "input", "FP32", [1, 64], b"\0" * 3))
            reqs[-1].id = rid
            expected[rid] = None
        else:
            x = mlp_input(seed=seed * 1000 + i)
            reqs.append(make_infer_request("mlp", [("input", "FP32", x)], request_id=rid))
            expected[rid] = x
    return reqs, expected


def check_stream_answers(stub, answers, expected):
    reference = {}
    got = set()
    for a in answers:
        rid = a.infer_response.id
        assert rid in expected and rid not in got, rid
        got.add(rid)
        if expected[rid] is None:
            assert a.error_message and "'input'" in a.error_message
            continue
        assert not a.error_message, a.error_message
        if rid not in reference:
            reference[rid] = parse_infer_response(
                infer(stub, "mlp", [("input", "FP32", expected[rid])]))["logits"]
        np.testing.assert_array_equal(parse_infer_response(a.infer_response)["logits"],
                                      reference[rid])
    assert got == set(expected)


def test_stream_answers_every_request_with_several_in_flight(stub):
    reqs, expected = stream_requests(40, bad_every=7)
    answers = list(stub.ModelStreamInfer(iter(reqs), timeout=TIMEOUT_S))
    assert len(answers) == 40
    check_stream_answers(stub, answers, expected)


def test_stream_error_for_unknown_model_names_the_request_and_keeps_the_stream(stub):
    pb = stubs().pb
    bad = make_infer_request("no_such_model", [("input", "FP32", mlp_input())], request_id="b")
    good = make_infer_request("mlp", [("input", "FP32", mlp_input())], request_id="g")
    answers = {a.infer_response.id: a
               for a in stub.ModelStreamInfer(iter([bad, good]), timeout=TIMEOUT_S)}
    assert "no_such_model" in answers["b"].error_message
    assert not answers["g"].error_message
    assert isinstance(answers["g"], pb.ModelStreamInferResponse)


def test_many_concurrent_streams(stub):
    def run(seed):
        reqs, expected = stream_requests(16, seed=seed)
        return list(stub.ModelStreamInfer(iter(reqs), timeout=TIMEOUT_S)), expected

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(run, range(12)))
    for answers, expected in results:
        assert len(answers) == 16
        check_stream_answers(stub, answers, expected)


def test_concurrent_unary_calls(stub):
    """64 unary calls in flight at once on one channel, answered independently."""
    xs = [mlp_input(seed=s) for s in range(64)]
    futures = [stub.ModelInfer.future(make_infer_request("mlp", [("input", "FP32", x)]),
                                      timeout=TIMEOUT_S) for x in xs]
    outs = [parse_infer_response(f.result())["probabilities"] for f in futures]
    assert all(o.shape == (1, 10) for o in outs)
    np.testing.assert_allclose([o.sum() for o in outs], 1.0, rtol=1e-5)


def queue_stats(server, model):
    s = requests.get(f"{server.base_url}/v2/models/{model}/stats",
                     timeout=TIMEOUT_S).json()["model_stats"][0]
    return s["inference_stats"]["fail"]["count"], s["execution_count"]


def test_a_deadline_passing_in_the_queue_ends_the_call_and_drops_its_request(server, stub):
    # `batch_timeout` holds a lone request for its 400 ms batching delay; the client allows
    # 100 ms. ModelInfer runs on grpc++'s async API (AsyncInferCall): the deadline still ends
    # the call, the queued request is dropped unrun, and the server goes on serving.
    fails, executions = queue_stats(server, "batch_timeout")
    request = make_infer_request("batch_timeout", [("INPUT0", "FP32", np.ones((1, 4), np.float32))])
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(request, timeout=0.1)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and queue_stats(server, "batch_timeout")[0] == fails:
        time.sleep(0.05)
    assert queue_stats(server, "batch_timeout") == (fails + 1, executions)
    assert stub.ModelInfer(request, timeout=TIMEOUT_S).model_name == "batch_timeout"
