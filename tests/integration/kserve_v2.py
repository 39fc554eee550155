"""Client-side helpers for the KServe v2 HTTP protocol and Triton's binary tensor extension.

Written from the protocol documents, independently of the server's code, so the integration
tests check inferd against the protocol rather than against itself.
"""

import json
import struct

import numpy as np

HEADER_LENGTH = "Inference-Header-Content-Length"

# v2 datatype -> numpy dtype (BYTES elements are Python bytes in an object array).
NUMPY_TYPES = {
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "FP16": np.float16,
    "FP32": np.float32,
    "FP64": np.float64,
    "BYTES": np.object_,
}

# v2 datatype -> model config data_type.
CONFIG_TYPES = {name: f"TYPE_{name}" for name in NUMPY_TYPES}
CONFIG_TYPES["BYTES"] = "TYPE_STRING"


def to_bytes_elements(values):
    """BYTES tensor (strings or bytes) -> object array of bytes."""
    arr = np.asarray(values, dtype=np.object_)
    flat = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in arr.flatten()]
    return np.array(flat, dtype=np.object_).reshape(arr.shape)


def serialize_bytes_tensor(arr):
    """Binary extension BYTES layout: each element as a 4-byte little-endian length + bytes."""
    return b"".join(struct.pack("<I", len(e)) + e for e in to_bytes_elements(arr).flatten())


def deserialize_bytes_tensor(buf, shape):
    elements, offset = [], 0
    while offset < len(buf):
        (length,) = struct.unpack_from("<I", buf, offset)
        offset += 4
        elements.append(bytes(buf[offset:offset + length]))
        offset += length
    assert offset == len(buf), "BYTES output overruns its binary_data_size"
    arr = np.empty(len(elements), dtype=np.object_)
    arr[:] = elements
    return arr.reshape(shape)


def tensor_bytes(arr, datatype):
    """Raw binary-extension bytes of a tensor (row-major, little-endian)."""
    if datatype == "BYTES":
        return serialize_bytes_tensor(arr)
    if datatype == "BOOL":
        return np.asarray(arr, dtype=np.bool_).astype(np.uint8).tobytes()
    little_endian = np.dtype(NUMPY_TYPES[datatype]).newbyteorder("<")
    return np.ascontiguousarray(arr, dtype=little_endian).tobytes()


def json_data(arr, datatype):
    """A tensor as v2 JSON `data` (flat, row-major)."""
    if datatype == "BYTES":
        return [e.decode("utf-8") if isinstance(e, bytes) else e
                for e in np.asarray(arr, dtype=np.object_).flatten()]
    return np.asarray(arr).flatten().tolist()


def json_input(name, datatype, arr):
    arr = np.asarray(arr, dtype=NUMPY_TYPES[datatype]) if datatype != "BYTES" else arr
    return {"name": name, "datatype": datatype, "shape": list(np.shape(arr)),
            "data": json_data(arr, datatype)}


def binary_request(inputs, outputs=None, request_id=None, parameters=None, binary_outputs=True):
    """Builds a binary-extension infer request.

    inputs: [(name, datatype, ndarray)]; outputs: names to request (None = all); every requested
    output asks for binary data when binary_outputs. Returns (body, headers).
    """
    header = {"inputs": []}
    blobs = []
    for name, datatype, arr in inputs:
        blob = tensor_bytes(arr, datatype)
        header["inputs"].append({"name": name, "datatype": datatype, "shape": list(np.shape(arr)),
                                 "parameters": {"binary_data_size": len(blob)}})
        blobs.append(blob)
    if outputs is not None:
        header["outputs"] = [{"name": n, "parameters": {"binary_data": binary_outputs}}
                             for n in outputs]
    elif binary_outputs:
        header.setdefault("parameters", {})["binary_data_output"] = True
    if parameters:
        header.setdefault("parameters", {}).update(parameters)
    if request_id is not None:
        header["id"] = request_id
    head = json.dumps(header).encode("utf-8")
    headers = {HEADER_LENGTH: str(len(head)), "Content-Type": "application/octet-stream"}
    return head + b"".join(blobs), headers


def parse_infer_response(resp):
    """Splits a 200 infer response into (JSON header, {output name: ndarray})."""
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    body = resp.content
    header_len = resp.headers.get(HEADER_LENGTH)
    if header_len is None:
        header, binary = json.loads(body), b""
    else:
        header_len = int(header_len)
        header, binary = json.loads(body[:header_len]), body[header_len:]
    outputs, offset = {}, 0
    for out in header.get("outputs", []):
        datatype, shape = out["datatype"], out["shape"]
        size = (out.get("parameters") or {}).get("binary_data_size")
        if size is not None:
            assert "data" not in out, f"output {out['name']} has both data and binary_data_size"
            raw = binary[offset:offset + size]
            assert len(raw) == size, f"output {out['name']} truncated"
            offset += size
            if datatype == "BYTES":
                arr = deserialize_bytes_tensor(raw, shape)
            elif datatype == "BOOL":
                arr = np.frombuffer(raw, dtype=np.uint8).astype(np.bool_).reshape(shape)
            else:
                dt = np.dtype(NUMPY_TYPES[datatype]).newbyteorder("<")
                arr = np.frombuffer(raw, dtype=dt).astype(NUMPY_TYPES[datatype]).reshape(shape)
        else:
            if datatype == "BYTES":
                arr = to_bytes_elements(np.array(out["data"], dtype=np.object_)).reshape(shape)
            else:
                arr = np.array(out["data"], dtype=NUMPY_TYPES[datatype]).reshape(shape)
        outputs[out["name"]] = arr
    assert offset == len(binary), f"{len(binary) - offset} unclaimed bytes after the outputs"
    return header, outputs


def error_message(resp):
    """The `error` string of an error response; fails the test when the body is not one."""
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error response {resp.status_code} is not JSON: {resp.text[:300]!r}")
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], \
        f"error response {resp.status_code} lacks a non-empty 'error' string: {body!r}"
    return body["error"]


# A [2, 3] tensor per data type, with the extremes of each range (shared by the HTTP and gRPC
# data type tests, so both front ends are held to the same cases).
DTYPE_SAMPLES = {
    "BOOL": [[True, False, True], [False, False, True]],
    "UINT8": [[0, 1, 255], [7, 128, 254]],
    "UINT16": [[0, 1, 65535], [7, 32768, 65534]],
    "UINT32": [[0, 1, 2**32 - 1], [7, 2**31, 2**32 - 2]],
    "UINT64": [[0, 1, 2**64 - 1], [7, 2**63, 2**64 - 2]],
    "INT8": [[-128, 0, 127], [-1, 1, 42]],
    "INT16": [[-32768, 0, 32767], [-1, 1, 42]],
    "INT32": [[-2**31, 0, 2**31 - 1], [-1, 1, 42]],
    "INT64": [[-2**63, 0, 2**63 - 1], [-1, 1, 42]],
    "FP16": [[0.5, -1.5, 65504.0], [0.0, 1e-3, -2.0]],
    "FP32": [[0.1, -1.0 / 3.0, 3.4e38], [0.0, 1e-30, -2.5]],
    "FP64": [[0.1, -1.0 / 3.0, 1e308], [0.0, 1e-300, -2.5]],
    "BYTES": [["hello", "", "ünïcödé"], ["\x00\xff", "x" * 100, "{\"json\": 1}"]],
}


def dtype_sample(dtype):
    if dtype == "BYTES":
        return to_bytes_elements(np.array(DTYPE_SAMPLES[dtype], dtype=np.object_))
    return np.array(DTYPE_SAMPLES[dtype], dtype=NUMPY_TYPES[dtype])


def identity_model(dtype):
    return f"identity_{dtype.lower()}"


def assert_same_tensor(got, want, dtype):
    assert got.shape == want.shape
    if dtype == "BYTES":
        assert got.tolist() == want.tolist()
    else:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
