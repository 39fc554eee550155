"""Malformed requests, unknown routes and models that failed to load: each answer is an HTTP
error with a JSON {"error": "..."} body naming what was wrong, and the server keeps serving
(checked after every test by the server_stays_up fixture, and here by a good request)."""

import json
import socket
import threading

import numpy as np
import pytest

from kserve_v2 import HEADER_LENGTH, binary_request, error_message, json_input

DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


def good_simple_body():
    x = np.ones((1, 16), dtype=np.float32)
    return {"inputs": [json_input("INPUT0", "FP32", x), json_input("INPUT1", "FP32", x)]}


def assert_still_serving(client):
    r = client.infer("simple", good_simple_body())
    assert r.status_code == 200, r.text


def assert_error(r, status, *mentions):
    assert r.status_code == status, f"want {status}, got {r.status_code}: {r.text[:300]}"
    message = error_message(r)
    for m in mentions:
        assert m in message, f"error {message!r} does not mention {m!r}"
    return message


# --- request validation (400) -------------------------------------------------------------------

def test_wrong_inner_shape_is_400_naming_the_input(client):
    body = good_simple_body()
    body["inputs"][0] = json_input("INPUT0", "FP32", np.ones((1, 15), np.float32))
    assert_error(client.infer("simple", body), 400, "INPUT0")
    assert_still_serving(client)


def test_data_count_not_matching_shape_is_400_naming_the_input(client):
    body = good_simple_body()
    body["inputs"][1]["data"] = body["inputs"][1]["data"][:-1]
    assert_error(client.infer("simple", body), 400, "INPUT1")
    assert_still_serving(client)


def test_batch_over_max_batch_size_is_400(client):
    x = np.ones((9, 16), np.float32)
    body = {"inputs": [json_input("INPUT0", "FP32", x), json_input("INPUT1", "FP32", x)]}
    assert_error(client.infer("simple", body), 400)
    assert_still_serving(client)


def test_wrong_datatype_is_400_naming_the_input(client):
    body = good_simple_body()
    body["inputs"][0] = json_input("INPUT0", "INT32", np.ones((1, 16), np.int32))
    assert_error(client.infer("simple", body), 400, "INPUT0")
    assert_still_serving(client)


def test_unknown_datatype_name_is_400(client):
    body = good_simple_body()
    body["inputs"][0]["datatype"] = "FP33"
    assert_error(client.infer("simple", body), 400)
    assert_still_serving(client)


def test_unknown_input_name_is_400_naming_it(client):
    body = good_simple_body()
    body["inputs"].append(json_input("BOGUS", "FP32", np.ones((1, 16), np.float32)))
    assert_error(client.infer("simple", body), 400, "BOGUS")
    assert_still_serving(client)


def test_missing_input_is_400_naming_it(client):
    body = good_simple_body()
    del body["inputs"][1]
    assert_error(client.infer("simple", body), 400, "INPUT1")
    assert_still_serving(client)


def test_unknown_requested_output_is_400_naming_it(client):
    body = good_simple_body()
    body["outputs"] = [{"name": "NO_SUCH_OUTPUT"}]
    assert_error(client.infer("simple", body), 400, "NO_SUCH_OUTPUT")
    assert_still_serving(client)


def test_json_value_of_the_wrong_kind_is_400(client):
    body = good_simple_body()
    body["inputs"][0]["data"][3] = "not a number"
    assert_error(client.infer("simple", body), 400)
    assert_still_serving(client)


@pytest.mark.parametrize("raw", [b'{"inputs": [', b"not json at all", b"", b'{"inputs": 5}',
                                 b'[1, 2, 3]'])
def test_broken_json_body_is_400(client, raw):
    r = client.infer("simple", raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    assert_still_serving(client)


def test_truncated_binary_body_is_400_naming_the_input(client):
    x = np.ones((1, 16), np.float32)
    body, headers = binary_request([("INPUT0", "FP32", x), ("INPUT1", "FP32", x)])
    assert_error(client.infer("simple", body[:-32], headers=headers), 400, "INPUT1")
    assert_still_serving(client)


def test_binary_header_length_beyond_the_body_is_400(client):
    x = np.ones((1, 16), np.float32)
    body, headers = binary_request([("INPUT0", "FP32", x), ("INPUT1", "FP32", x)])
    headers[HEADER_LENGTH] = str(len(body) + 10)
    assert_error(client.infer("simple", body, headers=headers), 400)
    assert_still_serving(client)


def test_binary_size_not_matching_the_shape_is_400_naming_the_input(client):
    x = np.ones((1, 16), np.float32)
    head = {"inputs": [
        {"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
         "parameters": {"binary_data_size": 60}},
        json_input("INPUT1", "FP32", x)]}
    head_bytes = json.dumps(head).encode()
    r = client.infer("simple", head_bytes + x.tobytes()[:60],
                     headers={HEADER_LENGTH: str(len(head_bytes))})
    assert_error(r, 400, "INPUT0")
    assert_still_serving(client)


def test_extra_bytes_after_the_binary_inputs_are_400(client):
    x = np.ones((1, 16), np.float32)
    body, headers = binary_request([("INPUT0", "FP32", x), ("INPUT1", "FP32", x)])
    assert_error(client.infer("simple", body + b"\0" * 8, headers=headers), 400)
    assert_still_serving(client)


def test_malformed_bytes_element_length_is_400(client):
    # One BYTES element claiming 1000 bytes in a 9-byte buffer.
    blob = (1000).to_bytes(4, "little") + b"short"
    head = {"inputs": [{"name": "INPUT0", "datatype": "BYTES", "shape": [1, 1],
                        "parameters": {"binary_data_size": len(blob)}}]}
    head_bytes = json.dumps(head).encode()
    r = client.infer("identity_bytes", head_bytes + blob,
                     headers={HEADER_LENGTH: str(len(head_bytes))})
    assert_error(r, 400)
    assert_still_serving(client)


def test_bytes_json_data_that_is_not_strings_is_400(client):
    body = {"inputs": [{"name": "INPUT0", "datatype": "BYTES", "shape": [1, 3],
                        "data": [1, 2, 3]}]}
    assert_error(client.infer("identity_bytes", body), 400)
    assert_still_serving(client)


def test_negative_dim_in_request_shape_is_400(client):
    body = good_simple_body()
    body["inputs"][0]["shape"] = [-1, 16]
    assert_error(client.infer("simple", body), 400, "INPUT0")
    assert_still_serving(client)


@pytest.mark.parametrize("shape", [[1, 2**62], [2**31, 2**31], [4, 2**63 - 1]])
def test_shape_whose_byte_size_overflows_is_400_not_a_crash(client, shape):
    body = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": shape, "data": [1.0]}]}
    assert_error(client.infer("identity_fp32", body), 400)
    head = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": shape,
                        "parameters": {"binary_data_size": 4}}]}
    head_bytes = json.dumps(head).encode()
    r = client.infer("identity_fp32", head_bytes + b"\0" * 4,
                     headers={HEADER_LENGTH: str(len(head_bytes))})
    assert_error(r, 400)
    assert_still_serving(client)


def test_duplicate_input_is_400_naming_it(client):
    body = good_simple_body()
    body["inputs"].append(dict(body["inputs"][0]))
    assert_error(client.infer("simple", body), 400, "INPUT0")
    assert_still_serving(client)


@pytest.mark.parametrize("data", [5, "abc", {"a": 1}, None])
def test_data_that_is_not_an_array_is_400(client, data):
    body = good_simple_body()
    body["inputs"][0]["data"] = data
    assert_error(client.infer("simple", body), 400)
    assert_still_serving(client)


def test_deeply_nested_json_is_400_not_a_stack_overflow(client):
    depth = 100_000
    raw = b'{"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16], "data": ' + \
        b"[" * depth + b"1" + b"]" * depth + b"}]}"
    assert_error(client.infer("simple", raw), 400)
    assert_still_serving(client)


@pytest.mark.parametrize("value", ["abc", "-5", "", "99999999999999999999999"])
def test_malformed_inference_header_content_length_is_400(client, value):
    body, headers = binary_request([("INPUT0", "FP32", np.ones((1, 16), np.float32)),
                                    ("INPUT1", "FP32", np.ones((1, 16), np.float32))])
    headers[HEADER_LENGTH] = value
    assert_error(client.infer("simple", body, headers=headers), 400, HEADER_LENGTH, "byte count")
    assert_still_serving(client)


@pytest.mark.parametrize("size", ["abc", -4, 1.5])
def test_malformed_binary_data_size_is_400(client, size):
    head = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 1],
                        "parameters": {"binary_data_size": size}}]}
    head_bytes = json.dumps(head).encode()
    r = client.infer("identity_fp32", head_bytes + b"\0" * 4,
                     headers={HEADER_LENGTH: str(len(head_bytes))})
    assert_error(r, 400)
    assert_still_serving(client)


def test_non_numeric_version_in_the_url_is_rejected(client):
    r = client.infer("simple", good_simple_body(), version="abc")
    assert r.status_code in (400, 404), r.status_code
    error_message(r)


# --- body size limit (413) ----------------------------------------------------------------------

def read_http_response(sock):
    """Reads one HTTP response (headers + Content-Length body, or up to EOF) from a raw socket;
    returns what arrived, even if the peer then resets the connection."""
    response = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return response
            response += data
            headers, sep, rest = response.partition(b"\r\n\r\n")
            if sep:
                lengths = [int(line.split(b":", 1)[1]) for line in headers.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")]
                if lengths and len(rest) >= lengths[0]:
                    return response
    except (ConnectionResetError, socket.timeout):
        return response


def test_body_over_the_default_64_mib_limit_is_413(server, client):
    """Sends 65 MiB to the infer endpoint on a raw socket while reading the answer, so a
    server that refuses on Content-Length alone and one that reads first both pass."""
    size = DEFAULT_MAX_BODY_BYTES + 1024 * 1024
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = (f"POST /v2/models/simple/infer HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()

    def send_body():
        try:
            sock.sendall(head)
            chunk = b" " * (1024 * 1024)
            for _ in range(size // len(chunk)):
                sock.sendall(chunk)
        except OSError:
            pass  # the server may stop reading once it has answered

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    try:
        response = read_http_response(sock)
    finally:
        try:
            sock.shutdown(socket.SHUT_RDWR)  # wakes a sender blocked in sendall
        except OSError:
            pass
        sender.join(timeout=30)
        sock.close()
    assert response, f"no HTTP answer to a {size}-byte body"
    status_line = response.split(b"\r\n", 1)[0]
    assert status_line.split(b" ")[1] == b"413", status_line
    _, _, body = response.partition(b"\r\n\r\n")
    assert "error" in json.loads(body), body[:300]
    assert_still_serving(client)


# --- routing (404, 405) -------------------------------------------------------------------------

def test_infer_on_unknown_model_is_404_naming_it(client):
    assert_error(client.infer("no_such_model", good_simple_body()), 404, "no_such_model")


def test_infer_on_unknown_version_is_404(client):
    assert_error(client.infer("simple", good_simple_body(), version=7), 404)


@pytest.mark.parametrize("path", ["/v2/nope", "/nope", "/v2/models/simple/nope",
                                  "/v2/health/dead", "/v3/health/live"])
def test_unknown_path_is_404(client, path):
    assert_error(client.get(path), 404)


@pytest.mark.parametrize("method,path", [("GET", "/v2/models/simple/infer"),
                                         ("DELETE", "/v2/health/live"),
                                         ("POST", "/v2/health/ready"),
                                         ("PUT", "/v2/models/simple")])
def test_wrong_method_is_405(client, method, path):
    assert_error(client.request(method, path), 405)
    assert_still_serving(client)


# --- models that failed to load -----------------------------------------------------------------

# Triton answers requests for a model with no ready version with 400 ("unknown model" /
# "unavailable"); inferd may say 404 or 503. What matters: an error naming the model, not a hang.
UNAVAILABLE = (400, 404, 503)
FAILED_MODELS = ["broken", "bad_config", "unknown_field"]


@pytest.mark.parametrize("model", FAILED_MODELS)
def test_infer_on_a_model_that_failed_to_load_is_refused_naming_it(client, model):
    x = np.ones((1, 4), np.float32)
    r = client.infer(model, {"inputs": [json_input("INPUT0", "FP32", x)]})
    assert r.status_code in UNAVAILABLE, f"{r.status_code}: {r.text[:300]}"
    assert model in error_message(r)
    assert_still_serving(client)


@pytest.mark.parametrize("model", FAILED_MODELS)
def test_metadata_of_a_model_that_failed_to_load_is_refused(client, model):
    r = client.get(f"/v2/models/{model}")
    assert r.status_code in UNAVAILABLE, f"{r.status_code}: {r.text[:300]}"
    assert model in error_message(r)


@pytest.fixture
def repository_index(client):
    r = client.post("/v2/repository/index", json={})
    if r.status_code in (404, 405, 501):
        pytest.skip(f"POST /v2/repository/index not offered ({r.status_code})")
    assert r.status_code == 200, r.text
    index = r.json()
    assert isinstance(index, list)
    by_name = {}
    for entry in index:  # Triton lists one entry per model version
        by_name.setdefault(entry["name"], []).append(entry)
    return by_name


def reason_of(entries):
    return " ".join(e.get("reason", "") for e in entries)


def test_repository_index_lists_every_model_with_its_state(repository_index):
    for name in ["simple", "mlp", "text_upper", "versioned", "latest2", "identity_fp32"]:
        states = [e.get("state") for e in repository_index[name]]
        assert "READY" in states, repository_index[name]
    for name in FAILED_MODELS:
        entries = repository_index[name]
        assert all(e.get("state") == "UNAVAILABLE" for e in entries), entries
        assert reason_of(entries).strip(), f"{name}: no reason given"


def test_repository_index_explains_the_corrupt_model_file(repository_index):
    assert "onnx" in reason_of(repository_index["broken"]).lower()


def test_repository_index_explains_the_config_contradiction(repository_index):
    reason = reason_of(repository_index["bad_config"])
    assert "INPUT0" in reason, reason


def test_repository_index_names_the_unknown_config_field_file_and_line(repository_index):
    reason = reason_of(repository_index["unknown_field"])
    assert "foo" in reason, reason
    assert "config.pbtxt" in reason, reason
    assert ":3:" in reason or "line 3" in reason, reason
