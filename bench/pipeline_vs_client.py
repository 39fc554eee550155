#!/usr/bin/python3
"""The digits pipeline (examples/digits) three ways, one client, one request at a time:

  pipeline  one request to the ensemble `digits` (image bytes in, probabilities out)
  steps     the same two steps called one by one by the client: image -> digits_preprocess,
            then its pixels -> digits_cnn (two HTTP round trips, pixels through the client)
  pillow    a Python client that decodes and pre-processes with Pillow + NumPy itself and
            calls digits_cnn (the glue Triton users often write)

All over HTTP with the binary tensor extension, on the held-out PNG images. Prints mean
latency per image and the ratios; the run trains the example first unless --example names an
existing output folder of examples/digits/train_digits.py.

    /usr/bin/python3 bench/pipeline_vs_client.py [--inferd build/apps/inferd/inferd] [--rounds 3]
"""

import argparse
import io
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import requests
from PIL import Image

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "integration"))
sys.path.insert(0, str(REPO_ROOT / "examples" / "digits"))

from kserve_v2 import binary_request, parse_infer_response  # noqa: E402
from train_digits import MEAN, STD  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def infer(session, url, model, inputs):
    body, headers = binary_request(inputs)
    r = session.post(f"{url}/v2/models/{model}/infer", data=body, headers=headers, timeout=20)
    return parse_infer_response(r)[1]


def pipeline(session, url, data):
    return infer(session, url, "digits", [("IMAGE", "BYTES", np.array([[data]], dtype=object))])


def steps(session, url, data):
    pixels = infer(session, url, "digits_preprocess",
                   [("IMAGE", "BYTES", np.array([[data]], dtype=object))])["PIXELS"]
    return infer(session, url, "digits_cnn", [("pixels", "FP32", pixels)])


def pillow(session, url, data):
    image = np.asarray(Image.open(io.BytesIO(data)).convert("L"), dtype=np.float32)
    h, w = image.shape
    small = image.reshape(8, h // 8, 8, w // 8).mean(axis=(1, 3))
    pixels = ((small / 255.0 - MEAN) / STD).astype(np.float32)[None, None]
    return infer(session, url, "digits_cnn", [("pixels", "FP32", pixels)])


def measure(fn, session, url, images, rounds):
    for data in images[:20]:  # warm up
        fn(session, url, data)
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for data in images:
            fn(session, url, data)
        per_image = (time.perf_counter() - start) / len(images)
        best = per_image if best is None else min(best, per_image)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inferd", default=str(REPO_ROOT / "build" / "apps" / "inferd" / "inferd"))
    parser.add_argument("--example", type=pathlib.Path)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    example = args.example
    if example is None:
        example = pathlib.Path(tempfile.mkdtemp(prefix="digits-"))
        subprocess.run(["/usr/bin/python3", str(REPO_ROOT / "examples" / "digits" /
                                                  "train_digits.py"), str(example)], check=True)
    images = [p.read_bytes() for p in sorted((example / "images" / "png").glob("*.png"))]
    port = free_port()
    server = subprocess.Popen([args.inferd, "serve", "--model-repository",
                               str(example / "models"), "--http-port", str(port), "--host",
                               "127.0.0.1", "--grpc-port", str(free_port())],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/v2/health/ready", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        session = requests.Session()
        results = {name: measure(fn, session, url, images, args.rounds)
                   for name, fn in (("pipeline", pipeline), ("steps", steps),
                                    ("pillow", pillow))}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    for name, seconds in results.items():
        print(f"{name:9s} {seconds * 1e6:8.0f} us/image  {1 / seconds:8.0f} images/s")
    print(f"steps ÷ pipeline  {results['steps'] / results['pipeline']:.2f}x the latency")
    print(f"pillow ÷ pipeline {results['pillow'] / results['pipeline']:.2f}x the latency")


if __name__ == "__main__":
    main()
