"""The digits example end to end (examples/digits): the training script builds the repository
and the held-out PNG/JPEG images, a real server runs the ensemble digits = image processor ->
ONNX CNN, and every held-out image is classified through it (top-1 label via the
classification extension). The accuracy must reach 95% and equal what the script measured on
the same files. Also: bad images are a 400 naming the pre-processing step, over HTTP and gRPC."""

import json
import pathlib
import subprocess

import grpc
import numpy as np
import pytest

from conftest import Client, start_server, stop_server
from grpc_client import make_infer_request, parse_infer_response, stubs
from kserve_v2 import HEADER_LENGTH, binary_request, error_message, parse_infer_response as parse_http

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRAIN = ROOT / "examples" / "digits" / "train_digits.py"
TIMEOUT_S = 20


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    subprocess.run(["/usr/bin/python3", str(TRAIN), str(out)], check=True, timeout=300,
                   stdout=subprocess.DEVNULL)
    return out


@pytest.fixture(scope="module")
def digits_server(example, tmp_path_factory):
    srv = start_server(example / "models", tmp_path_factory.mktemp("digits_log"))
    yield srv
    stop_server(srv)


@pytest.fixture
def http(digits_server):
    c = Client(digits_server.base_url)
    yield c
    c.session.close()


def images(example):
    files = sorted((example / "images").glob("*/*"))
    assert len(files) > 100
    return [(p, int(p.stem.split("_")[1])) for p in files]


def image_input(data):
    return ("IMAGE", "BYTES", np.array([[data]], dtype=np.object_))


def top1_http(http, data):
    """The top-1 "score:index:label" of one image (classification extension, JSON output)."""
    body, headers = binary_request([image_input(data)], binary_outputs=False)
    head_length = int(headers[HEADER_LENGTH])
    header = json.loads(body[:head_length])
    header["outputs"] = [{"name": "PROBABILITIES", "parameters": {"classification": 1}}]
    head = json.dumps(header).encode()
    headers[HEADER_LENGTH] = str(len(head))
    r = http.infer("digits", head + body[head_length:], headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["outputs"][0]["data"][0]


def test_the_pipeline_classifies_the_held_out_digits_as_well_as_the_script(example, http):
    measured = json.loads((example / "accuracy.json").read_text())
    labels = measured["labels"]
    correct = 0
    files = images(example)
    for path, label in files:
        score, index, name = top1_http(http, path.read_bytes()).split(":")
        assert labels[int(index)] == name
        correct += int(int(index) == label)
    accuracy = correct / len(files)
    assert accuracy >= 0.95
    assert correct == measured["correct"], (accuracy, measured)


def test_the_pipeline_answers_over_grpc_too(example, digits_server):
    ch = grpc.insecure_channel(digits_server.grpc_target)
    stub = stubs().rpc.GRPCInferenceServiceStub(ch)
    path, label = images(example)[0]
    resp = stub.ModelInfer(make_infer_request("digits", [image_input(path.read_bytes())]),
                           timeout=TIMEOUT_S)
    probabilities = parse_infer_response(resp)["PROBABILITIES"]
    assert probabilities.shape == (1, 10)
    assert int(np.argmax(probabilities)) == label
    with pytest.raises(grpc.RpcError) as info:
        stub.ModelInfer(make_infer_request("digits", [image_input(b"not an image")]),
                        timeout=TIMEOUT_S)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "step 1 (model 'digits_preprocess')" in info.value.details()
    ch.close()


def test_a_batch_of_images_runs_as_one_request(example, http):
    files = images(example)[:5]
    arr = np.array([[p.read_bytes()] for p, _ in files], dtype=np.object_)
    body, headers = binary_request([("IMAGE", "BYTES", arr)])
    r = http.infer("digits", body, headers=headers)
    assert r.status_code == 200, r.text
    probabilities = parse_http(r)[1]["PROBABILITIES"]
    assert probabilities.shape == (5, 10)


@pytest.mark.parametrize("data, message", [
    (b"definitely not an image", "not a PNG or JPEG image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a readable PNG image"),
    (b"\xff\xd8\xff" + b"\x00" * 40, "not a readable JPEG image"),
])
def test_bad_images_are_a_400_naming_the_step(http, data, message):
    body, headers = binary_request([image_input(data)])
    r = http.infer("digits", body, headers=headers)
    assert r.status_code == 400, r.text
    error = error_message(r)
    assert "ensemble 'digits' step 1 (model 'digits_preprocess')" in error
    assert message in error


def test_an_oversize_image_is_refused(http):
    from PIL import Image
    import io
    buffer = io.BytesIO()
    Image.new("L", (5000, 4000)).save(buffer, "PNG")
    body, headers = binary_request([image_input(buffer.getvalue())])
    r = http.infer("digits", body, headers=headers)
    assert r.status_code == 400, r.text
    assert "over the limit of 16777216 pixels" in error_message(r)


@pytest.fixture(scope="module", params=["http", "grpc"])
def two_services(example, digits_server, tmp_path_factory, request):
    """The same pipeline as two services: this front server decodes and normalizes, and its
    digits_cnn is a `remote` model forwarding to the model server (digits_server, which serves
    the ONNX CNN) over HTTP or gRPC."""
    import shutil
    front = tmp_path_factory.mktemp("digits_front")
    for name in ("digits_preprocess", "digits"):
        shutil.copytree(example / "models" / name, front / name)
    cnn = (example / "models" / "digits_cnn" / "config.pbtxt").read_text()
    url = (digits_server.base_url if request.param == "http"
           else f"grpc://{digits_server.grpc_target}")
    (front / "digits_cnn").mkdir()
    (front / "digits_cnn" / "config.pbtxt").write_text(
        cnn.replace('platform: "onnxruntime_onnx"', 'backend: "remote"') +
        f'parameters {{ key: "url" value {{ string_value: "{url}" }} }}\n'
        'parameters { key: "timeout_ms" value { string_value: "5000" } }\n')
    srv = start_server(front, tmp_path_factory.mktemp("digits_front_log"))
    yield srv
    stop_server(srv)


def test_the_pipeline_as_two_services_gives_the_same_accuracy(example, two_services,
                                                               digits_server):
    measured = json.loads((example / "accuracy.json").read_text())
    c = Client(two_services.base_url)
    before = requests_stats(digits_server.base_url, "digits_cnn")
    correct = 0
    files = images(example)
    for path, label in files:
        correct += int(int(top1_http(c, path.read_bytes()).split(":")[1]) == label)
    c.session.close()
    assert correct == measured["correct"]
    # Every image's CNN step ran on the model server.
    assert requests_stats(digits_server.base_url, "digits_cnn") == before + len(files)


def requests_stats(base_url, model):
    c = Client(base_url)
    r = c.get(f"/v2/models/{model}/stats")
    c.session.close()
    return r.json()["model_stats"][0]["inference_stats"]["success"]["count"]
