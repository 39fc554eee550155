"""Sequence batching of stateful models against a real server (docs/scheduling.md): a running
accumulator whose state the server keeps between the requests of a sequence, over HTTP and a
gRPC stream, with numeric and string correlation ids, interleaved and concurrent sequences,
the direct and oldest strategies, the START/END/READY/CORRID control inputs, and the idle
timeout."""

import concurrent.futures
import subprocess
import sys
import time

import grpc
import numpy as np
import pytest

from conftest import REPO_ROOT, Client, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response

TIMEOUT_S = 20
IDLE_US = 400000
MAKE_PARITY_MODELS = REPO_ROOT / "scripts" / "make_parity_models.py"

ACCUMULATOR = """name: "{name}"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [ {{ name: "INPUT" data_type: TYPE_FP32 dims: [ 1 ] }} ]
output [ {{ name: "OUTPUT" data_type: TYPE_FP32 dims: [ 1 ] }} ]
instance_group [ {{ count: {instances} kind: KIND_CPU }} ]
sequence_batching {{
  max_sequence_idle_microseconds: {idle}
  control_input [ {{ name: "START"
                     control [ {{ kind: CONTROL_SEQUENCE_START fp32_false_true: [ 0, 1 ] }} ] }} ]
  state [ {{ input_name: "STATE_IN" output_name: "STATE_OUT" data_type: TYPE_FP32
             dims: [ 1 ] }} ]
  {strategy}
}}
"""

CONTROLS = """name: "sequence_controls"
platform: "onnxruntime_onnx"
max_batch_size: 4
sequence_batching {
  control_input [
    { name: "END" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] } ] },
    { name: "READY" control [ { kind: CONTROL_SEQUENCE_READY int32_false_true: [ 0, 1 ] } ] },
    { name: "CORRID" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 } ] } ]
}
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    repo = tmp_path_factory.mktemp("sequence_models")
    subprocess.run([sys.executable, str(MAKE_PARITY_MODELS), str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    model = (repo / "accumulator" / "1" / "model.onnx").read_bytes()
    strategies = {
        "accumulator": ("oldest { max_candidate_sequences: 8 max_queue_delay_microseconds: 2000 }",
                        1),
        "accumulator_direct": ("direct { }", 2),
    }
    for name, (strategy, instances) in strategies.items():
        (repo / name / "1").mkdir(parents=True, exist_ok=True)
        (repo / name / "1" / "model.onnx").write_bytes(model)
        (repo / name / "config.pbtxt").write_text(ACCUMULATOR.format(
            name=name, strategy=strategy, instances=instances, idle=IDLE_US))
    (repo / "sequence_controls" / "config.pbtxt").write_text(CONTROLS)
    args = ["--model-control-mode", "explicit"]
    for name in ("accumulator", "accumulator_direct", "sequence_controls"):
        args += ["--load-model", name]
    s = start_server(repo, tmp_path_factory.mktemp("sequence_log"), args)
    yield s
    stop_server(s)


def step(http, sequence_id, value, start=False, end=False, model="accumulator"):
    params = {"sequence_id": sequence_id}
    if start:
        params["sequence_start"] = True
    if end:
        params["sequence_end"] = True
    return http.infer(model, {"parameters": params, "inputs": [
        {"name": "INPUT", "datatype": "FP32", "shape": [1, 1], "data": [value]}]})


def total(response):
    assert response.status_code == 200, response.text
    return response.json()["outputs"][0]["data"][0]


@pytest.mark.parametrize("model", ["accumulator", "accumulator_direct"])
def test_interleaved_sequences_keep_their_own_state(http, model):
    assert total(step(http, 1001, 5, start=True, model=model)) == 5
    assert total(step(http, "session-a", 10, start=True, model=model)) == 10
    assert total(step(http, 1001, 2, model=model)) == 7
    assert total(step(http, "session-a", 1, model=model)) == 11
    assert total(step(http, 1001, 3, end=True, model=model)) == 10
    assert total(step(http, "session-a", 4, end=True, model=model)) == 15


def test_the_state_output_is_not_answered(http):
    r = step(http, 1002, 1, start=True, end=True)
    assert [o["name"] for o in r.json()["outputs"]] == ["OUTPUT"]


def test_start_begins_a_sequence_afresh(http):
    assert total(step(http, 1003, 4, start=True)) == 4
    assert total(step(http, 1003, 4)) == 8
    assert total(step(http, 1003, 1, start=True)) == 1
    assert total(step(http, 1003, 1, end=True)) == 2


def test_a_request_after_end_needs_a_new_start(http):
    assert total(step(http, 1004, 1, start=True, end=True)) == 1
    r = step(http, 1004, 1)
    assert r.status_code == 400 and "1004" in r.json()["error"]


def test_requests_without_a_sequence_id_are_refused(http):
    r = http.infer("accumulator", {"inputs": [
        {"name": "INPUT", "datatype": "FP32", "shape": [1, 1], "data": [1]}]})
    assert r.status_code == 400 and "sequence_id" in r.json()["error"]
    r = http.infer("accumulator", {"parameters": {"sequence_id": 1005, "sequence_start": 1},
                                   "inputs": [{"name": "INPUT", "datatype": "FP32",
                                               "shape": [1, 1], "data": [1]}]})
    assert r.status_code == 400 and "sequence_start" in r.json()["error"]


def test_a_sequence_idle_too_long_is_dropped(http):
    assert total(step(http, 1006, 1, start=True)) == 1
    assert total(step(http, 1006, 1)) == 2
    time.sleep(IDLE_US / 1e6 * 2.5)
    r = step(http, 1006, 1)
    assert r.status_code == 400
    assert "idle" in r.json()["error"] and "1006" in r.json()["error"]


@pytest.mark.parametrize("model", ["accumulator", "accumulator_direct"])
def test_concurrent_sequences_each_accumulate_alone(srv, model):
    def run(seq):
        c = Client(srv.base_url)
        try:
            values = [float(seq * 100 + i) for i in range(12)]
            got = []
            for i, v in enumerate(values):
                got.append(total(step(c, 2000 + seq, v, start=i == 0, end=i == len(values) - 1,
                                      model=model)))
            return got, list(np.cumsum(values))
        finally:
            c.session.close()

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        for got, want in pool.map(run, range(6)):
            assert got == want


def stream_step(sequence_id, value, request_id, start=False, end=False):
    params = {"sequence_id": sequence_id}
    if start:
        params["sequence_start"] = True
    if end:
        params["sequence_end"] = True
    return make_infer_request("accumulator", [("INPUT", "FP32", np.array([[value]], np.float32))],
                              request_id=request_id, parameters=params)


def test_grpc_stream_carries_interleaved_sequences(stub):
    reqs = []
    want = {}
    sums = {3001: 0.0, "grpc-b": 0.0}
    for i in range(6):
        for seq in (3001, "grpc-b"):
            value = float(i + 1) * (2 if seq == 3001 else 3)
            sums[seq] += value
            rid = f"{seq}-{i}"
            want[rid] = sums[seq]
            reqs.append(stream_step(seq, value, rid, start=i == 0, end=i == 5))
    answers = list(stub.ModelStreamInfer(iter(reqs), timeout=TIMEOUT_S))
    assert len(answers) == len(reqs)
    for a in answers:
        assert not a.error_message, a.error_message
        out = parse_infer_response(a.infer_response)
        assert out["OUTPUT"].tolist() == [[want[a.infer_response.id]]]


def test_grpc_refuses_a_sequence_that_never_started(stub):
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(stream_step(3999, 1.0, "x"), timeout=TIMEOUT_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "3999" in info.value.details()


def test_control_inputs_carry_end_ready_and_corrid(http):
    def ask(end):
        params = {"sequence_id": 4242, "sequence_start": not end, "sequence_end": end}
        r = http.infer("sequence_controls", {"parameters": params, "inputs": [
            {"name": "INPUT", "datatype": "FP32", "shape": [1, 1], "data": [1]}]})
        assert r.status_code == 200, r.text
        return {o["name"]: o["data"][0] for o in r.json()["outputs"]}

    first = ask(end=False)
    assert first["OUT_END"] == 0 and first["OUT_READY"] == 1 and first["OUT_CORRID"] == 4242
    last = ask(end=True)
    assert last["OUT_END"] == 1 and last["OUT_CORRID"] == 4242
