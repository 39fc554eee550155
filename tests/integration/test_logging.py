"""Structured logs: --log-format json writes one JSON object per line, --access-log adds a line
per request (model, version, status, bytes, durations), and GET/POST /v2/logging reads and
changes the settings at runtime."""

import json
import shutil
import time

import pytest

from conftest import Client, start_server, stop_server
from test_metrics import simple_body


@pytest.fixture(scope="module")
def log_server(model_repo, tmp_path_factory):
    repo = tmp_path_factory.mktemp("logging_models")
    shutil.copytree(model_repo / "simple", repo / "simple")
    srv = start_server(repo, tmp_path_factory.mktemp("logging_log"),
                       ["--log-format", "json", "--access-log"])
    yield srv
    stop_server(srv)


@pytest.fixture
def lclient(log_server):
    c = Client(log_server.base_url)
    yield c
    # Leave the settings as the fixture started them.
    c.post("/v2/logging", json={"log_level": "info", "access_log": True})
    c.session.close()


def log_lines(srv):
    return srv.log_path.read_text(errors="replace").splitlines()


def access_lines(srv, path):
    out = []
    for line in log_lines(srv):
        doc = json.loads(line)
        if doc.get("type") == "access" and doc["path"] == path:
            out.append(doc)
    return out


def wait_for(predicate, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.05)
    return predicate()


def test_every_log_line_is_a_json_object(log_server, lclient):
    assert lclient.get("/v2/health/ready").status_code == 200
    lines = log_lines(log_server)
    assert lines
    for line in lines:
        doc = json.loads(line)  # every line, including start-up messages
        assert {"ts", "level"} <= set(doc)
    assert any("HTTP listening" in json.loads(l).get("msg", "") for l in lines)


def test_an_inference_request_gets_an_access_line(log_server, lclient):
    path = "/v2/models/simple/infer"
    before = len(access_lines(log_server, path))
    r = lclient.infer("simple", simple_body())
    assert r.status_code == 200
    lines = wait_for(lambda: access_lines(log_server, path)[before:])
    assert len(lines) == 1
    line = lines[0]
    assert line["method"] == "POST"
    assert line["status"] == 200
    assert line["model"] == "simple"
    assert line["version"] == 1
    assert line["bytes_in"] > 0
    assert line["bytes_out"] == len(r.content)
    for key in ("duration_us", "decode_us", "queue_us", "compute_us", "encode_us"):
        assert line[key] >= 0
    assert line["remote"].startswith("127.0.0.1:")


def test_failed_requests_are_logged_with_their_status(log_server, lclient):
    before = len(access_lines(log_server, "/v2/models/nope/infer"))
    assert lclient.infer("nope", simple_body()).status_code == 404
    lines = wait_for(lambda: access_lines(log_server, "/v2/models/nope/infer")[before:])
    assert lines[0]["status"] == 404


def test_logging_settings_read_and_change_at_runtime(log_server, lclient):
    settings = lclient.get("/v2/logging").json()
    assert settings["log_format"] == "json"
    assert settings["access_log"] is True
    assert settings["log_level"] == "info"
    assert settings["log_info"] is True  # Triton's view of the same level

    r = lclient.post("/v2/logging", json={"log_level": "debug"})
    assert r.status_code == 200
    assert r.json()["log_level"] == "debug"
    assert lclient.get("/v2/logging").json()["log_verbose_level"] == 1

    r = lclient.post("/v2/logging", json={"log_info": False})  # Triton's key
    assert r.json()["log_level"] == "warn"


def test_access_log_can_be_switched_off_at_runtime(log_server, lclient):
    assert lclient.post("/v2/logging", json={"access_log": False}).status_code == 200
    before = len(access_lines(log_server, "/v2/health/live"))
    assert lclient.get("/v2/health/live").status_code == 200
    time.sleep(0.2)
    assert len(access_lines(log_server, "/v2/health/live")) == before
    assert lclient.post("/v2/logging", json={"access_log": True}).status_code == 200
    assert lclient.get("/v2/health/live").status_code == 200
    assert wait_for(lambda: len(access_lines(log_server, "/v2/health/live")) == before + 1)


@pytest.mark.parametrize("doc", [
    {"log_level": "loud"}, {"log_format": "xml"}, {"access_log": "yes"}, {"colour": True},
    [1, 2],
])
def test_bad_logging_settings_are_rejected(lclient, doc):
    r = lclient.post("/v2/logging", json=doc)
    assert r.status_code == 400
    assert "error" in r.json()
    assert lclient.get("/v2/logging").json()["log_level"] == "info"


def test_text_format_can_be_chosen_at_runtime(log_server, lclient):
    assert lclient.post("/v2/logging", json={"log_format": "text"}).json()["log_format"] == "text"
    assert lclient.post("/v2/logging", json={"log_format": "json"}).json()["log_format"] == "json"
