"""Triton's system shared memory extension against a real server, with real POSIX shared memory
segments (multiprocessing.shared_memory): register, status and unregister over HTTP and gRPC;
inputs read from and outputs written into registered regions; bad names, keys, offsets and
sizes refused naming the field; unregistering while requests use a region is safe."""

import concurrent.futures
import subprocess
import sys
from multiprocessing import shared_memory

import grpc
import numpy as np
import pytest

from conftest import REPO_ROOT, Client, start_server, stop_server
from grpc_client import set_parameter, stubs

TIMEOUT_S = 20
MAKE_PARITY_MODELS = REPO_ROOT / "scripts" / "make_parity_models.py"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    repo = tmp_path_factory.mktemp("shm_models")
    subprocess.run([sys.executable, str(MAKE_PARITY_MODELS), str(repo)], check=True,
                   stdout=subprocess.DEVNULL)
    s = start_server(repo, tmp_path_factory.mktemp("shm_log"),
                     ["--model-control-mode", "explicit", "--load-model", "identity_fp32"])
    yield s
    stop_server(s)


@pytest.fixture
def segment():
    shm = shared_memory.SharedMemory(create=True, size=1 << 16)
    yield shm
    shm.close()
    shm.unlink()


def key_of(shm):
    return "/" + shm.name.lstrip("/")


def register(http, name, shm, offset=0, byte_size=None):
    return http.post(f"/v2/systemsharedmemory/region/{name}/register",
                     json={"key": key_of(shm), "offset": offset,
                           "byte_size": shm.size - offset if byte_size is None else byte_size})


def shm_infer_body(n, in_region, out_region, in_offset=0, out_offset=0):
    return {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [n],
                        "parameters": {"shared_memory_region": in_region,
                                       "shared_memory_byte_size": 4 * n,
                                       "shared_memory_offset": in_offset}}],
            "outputs": [{"name": "OUTPUT0",
                         "parameters": {"shared_memory_region": out_region,
                                        "shared_memory_byte_size": 4 * n,
                                        "shared_memory_offset": out_offset}}]}


def test_http_inputs_and_outputs_go_through_registered_regions(http, segment):
    x = np.arange(100, dtype=np.float32)
    segment.buf[:400] = x.tobytes()
    assert register(http, "in", segment, 0, 400).status_code == 200
    assert register(http, "out", segment, 4096, 4096).status_code == 200
    try:
        r = http.infer("identity_fp32", shm_infer_body(100, "in", "out"))
        assert r.status_code == 200, r.text
        out = r.json()["outputs"][0]
        assert "data" not in out
        assert out["parameters"] == {"shared_memory_region": "out",
                                     "shared_memory_byte_size": 400}
        got = np.frombuffer(bytes(segment.buf[4096:4496]), dtype=np.float32)
        np.testing.assert_array_equal(got, x)
        status = http.get("/v2/systemsharedmemory/status").json()
        assert {s["name"]: s for s in status}["out"] == {
            "name": "out", "key": key_of(segment), "offset": 4096, "byte_size": 4096}
        one = http.get("/v2/systemsharedmemory/region/in/status").json()
        assert [s["name"] for s in one] == ["in"]
    finally:
        assert http.post("/v2/systemsharedmemory/unregister").status_code == 200
    assert http.get("/v2/systemsharedmemory/status").json() == []


def test_an_input_may_come_from_shared_memory_and_the_output_inline(http, segment):
    x = np.linspace(0, 1, 8, dtype=np.float32)
    segment.buf[64:96] = x.tobytes()
    assert register(http, "in2", segment).status_code == 200
    try:
        body = shm_infer_body(8, "in2", "unused", in_offset=64)
        del body["outputs"]
        r = http.infer("identity_fp32", body)
        assert r.status_code == 200, r.text
        np.testing.assert_array_equal(np.float32(r.json()["outputs"][0]["data"]), x)
    finally:
        http.post("/v2/systemsharedmemory/region/in2/unregister")


def test_grpc_register_status_infer_unregister(stub, segment):
    pb = stubs().pb
    stub.SystemSharedMemoryRegister(pb.SystemSharedMemoryRegisterRequest(
        name="g", key=key_of(segment), offset=0, byte_size=segment.size), timeout=TIMEOUT_S)
    try:
        status = stub.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest(),
                                               timeout=TIMEOUT_S)
        assert status.regions["g"].key == key_of(segment)
        assert status.regions["g"].byte_size == segment.size
        x = np.arange(16, dtype=np.float32) * 3
        segment.buf[:64] = x.tobytes()
        req = pb.ModelInferRequest(model_name="identity_fp32")
        t = req.inputs.add(name="INPUT0", datatype="FP32", shape=[16])
        set_parameter(t.parameters["shared_memory_region"], "g")
        set_parameter(t.parameters["shared_memory_byte_size"], 64)
        o = req.outputs.add(name="OUTPUT0")
        set_parameter(o.parameters["shared_memory_region"], "g")
        set_parameter(o.parameters["shared_memory_byte_size"], 64)
        set_parameter(o.parameters["shared_memory_offset"], 1024)
        resp = stub.ModelInfer(req, timeout=TIMEOUT_S)
        assert resp.outputs[0].parameters["shared_memory_region"].string_param == "g"
        assert resp.outputs[0].parameters["shared_memory_byte_size"].int64_param == 64
        got = np.frombuffer(bytes(segment.buf[1024:1088]), dtype=np.float32)
        np.testing.assert_array_equal(got, x)
    finally:
        stub.SystemSharedMemoryUnregister(pb.SystemSharedMemoryUnregisterRequest(name="g"),
                                          timeout=TIMEOUT_S)
    with pytest.raises(grpc.RpcError) as info:
        stub.SystemSharedMemoryStatus(pb.SystemSharedMemoryStatusRequest(name="g"),
                                      timeout=TIMEOUT_S)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("body, status, field", [
    ({"key": "no-slash", "byte_size": 16}, 400, "key"),
    ({"key": "/inferd-test-missing-segment", "byte_size": 16}, 404, "inferd-test-missing"),
    ({"key": "SEGMENT", "byte_size": 0}, 400, "byte_size"),
    ({"key": "SEGMENT", "offset": 65536, "byte_size": 1}, 400, "offset"),
    ({"key": "SEGMENT", "byte_size": 65537}, 400, "byte_size"),
    ({"key": "SEGMENT", "byte_size": -1}, 400, "byte_size"),
    ({"byte_size": 16}, 400, "key"),
])
def test_bad_registrations_are_refused_naming_the_field(http, segment, body, status, field):
    if body.get("key") == "SEGMENT":
        body = dict(body, key=key_of(segment))
    r = http.post("/v2/systemsharedmemory/region/bad/register", json=body)
    assert r.status_code == status, r.text
    assert field in r.json()["error"]
    assert http.get("/v2/systemsharedmemory/status").json() == []


def test_a_name_is_registered_once(http, segment):
    assert register(http, "twice", segment).status_code == 200
    try:
        r = register(http, "twice", segment)
        assert r.status_code == 400 and "already registered" in r.json()["error"]
    finally:
        http.post("/v2/systemsharedmemory/region/twice/unregister")
    r = http.post("/v2/systemsharedmemory/region/twice/unregister")
    assert r.status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"in_region": "nowhere"}, "shared_memory_region"),
    ({"in_offset": 60000}, "shared_memory_offset"),
    ({"out_offset": 4000}, "shared_memory_byte_size"),
])
def test_requests_beyond_a_region_are_refused_naming_the_parameter(http, segment, change, field):
    assert register(http, "small", segment, 0, 4096).status_code == 200
    try:
        args = {"in_region": "small", "out_region": "small", "in_offset": 0, "out_offset": 0}
        args.update(change)
        r = http.infer("identity_fp32", shm_infer_body(100, **args))
        assert r.status_code == 400, r.text
        assert field in r.json()["error"]
    finally:
        http.post("/v2/systemsharedmemory/region/small/unregister")


def test_a_byte_size_that_does_not_match_the_shape_is_refused(http, segment):
    assert register(http, "mismatch", segment).status_code == 200
    try:
        body = shm_infer_body(100, "mismatch", "mismatch", out_offset=1024)
        body["inputs"][0]["parameters"]["shared_memory_byte_size"] = 396
        r = http.infer("identity_fp32", body)
        assert r.status_code == 400 and "INPUT0" in r.json()["error"]
    finally:
        http.post("/v2/systemsharedmemory/region/mismatch/unregister")


def test_unregistering_while_requests_use_the_region_is_safe(srv, segment):
    x = np.arange(1024, dtype=np.float32)
    segment.buf[:4096] = x.tobytes()
    admin = Client(srv.base_url)
    codes = []

    def one_request(_):
        c = Client(srv.base_url)
        try:
            r = c.infer("identity_fp32", shm_infer_body(1024, "busy", "busy", out_offset=8192))
            return r.status_code
        finally:
            c.session.close()

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for _ in range(5):
            assert register(admin, "busy", segment).status_code == 200
            futures = [pool.submit(one_request, i) for i in range(16)]
            admin.post("/v2/systemsharedmemory/region/busy/unregister")
            codes += [f.result() for f in futures]
    assert set(codes) <= {200, 400}, codes
    srv.assert_running()
    admin.session.close()
