"""--http-max-body-bytes: a second server with a 4 KiB limit shows the boundary exactly (the
default 64 MiB limit is covered in test_errors.py)."""

import json

import numpy as np
import pytest
import requests

from conftest import REQUEST_TIMEOUT_S, server_help, start_server, stop_server
from kserve_v2 import error_message, json_input

LIMIT = 4096


@pytest.fixture(scope="module")
def small_limit_server(model_repo, tmp_path_factory):
    if "--http-max-body-bytes" not in server_help():
        pytest.skip("this inferd build has no --http-max-body-bytes flag")
    srv = start_server(model_repo, tmp_path_factory.mktemp("log_small_limit"),
                       ["--http-max-body-bytes", str(LIMIT)])
    yield srv
    stop_server(srv)


def padded_identity_body(size):
    """A valid identity_int8 JSON request of exactly `size` bytes (padded with spaces)."""
    body = json.dumps({"inputs": [json_input("INPUT0", "INT8", np.ones((1, 4), np.int8))]})
    assert len(body) <= size
    return (body + " " * (size - len(body))).encode()


def test_body_of_exactly_the_limit_is_accepted(small_limit_server):
    r = requests.post(small_limit_server.base_url + "/v2/models/identity_int8/infer",
                      data=padded_identity_body(LIMIT), timeout=REQUEST_TIMEOUT_S)
    assert r.status_code == 200, r.text


def test_body_one_byte_over_the_limit_is_413_and_the_server_keeps_serving(small_limit_server):
    url = small_limit_server.base_url + "/v2/models/identity_int8/infer"
    r = requests.post(url, data=padded_identity_body(LIMIT + 1), timeout=REQUEST_TIMEOUT_S)
    assert r.status_code == 413
    error_message(r)
    assert requests.post(url, data=padded_identity_body(100),
                         timeout=REQUEST_TIMEOUT_S).status_code == 200
    small_limit_server.assert_running()
