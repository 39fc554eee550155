"""Durable asynchronous jobs (docs/http-api.md, "Asynchronous jobs"): `Prefer: respond-async`
answers 202 with a Location; the job's result comes back in the v2 formats (JSON and binary);
DELETE cancels; the list pages through a token's own jobs; a full queue answers 429; ended jobs
expire; completion callbacks are retried with backoff; and jobs survive a kill -9: every job
queued or running at the kill either completes or fails with "interrupted by restart", and none
runs twice. Each server here is started with its own job database."""

import http.server
import json
import os
import signal
import sqlite3
import threading
import time

import numpy as np
import pytest
import requests

from conftest import start_server, stop_server
from kserve_v2 import HEADER_LENGTH, binary_request

TIMEOUT_S = 20
TOKEN_A = "job-token-a-1f2e"
TOKEN_B = "job-token-b-9c8d"
ASYNC = {"Prefer": "respond-async"}
SIMPLE = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 16],
                      "data": [float(i) for i in range(16)]},
                     {"name": "INPUT1", "datatype": "FP32", "shape": [1, 16], "data": [1.0] * 16}]}
# 400 ms in its queue whatever the load (batching delay without early dispatch): slow jobs.
SLOW = {"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 4],
                    "data": [1.0, 2.0, 3.0, 4.0]}]}


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def submit(srv, model, body, token=None, headers=None, **kwargs):
    h = dict(ASYNC)
    if token:
        h.update(auth(token))
    h.update(headers or {})
    if isinstance(body, (bytes, bytearray)):
        return requests.post(f"{srv.base_url}/v2/models/{model}/infer", data=body, headers=h,
                             timeout=TIMEOUT_S, **kwargs)
    return requests.post(f"{srv.base_url}/v2/models/{model}/infer", json=body, headers=h,
                         timeout=TIMEOUT_S, **kwargs)


def wait_done(srv, location, token=None, deadline_s=15):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        r = requests.get(srv.base_url + location, headers=auth(token) if token else {},
                         timeout=TIMEOUT_S)
        if r.status_code != 202:
            return r
        time.sleep(0.05)
    pytest.fail(f"job {location} did not end within {deadline_s}s")


def metric(srv, line_prefix, token=TOKEN_A):
    text = requests.get(srv.base_url + "/metrics", headers=auth(token),
                        timeout=TIMEOUT_S).text
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.split()[-1])
    return None


@pytest.fixture(scope="module")
def receiver():
    """A local callback receiver: answers 500 to the first two POSTs of each job, then 200."""
    got = []
    attempts = {}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            job = self.headers.get("Inferd-Job-Id")
            with lock:
                attempts[job] = attempts.get(job, 0) + 1
                ok = attempts[job] > 2
                if ok:
                    got.append((time.monotonic(), json.loads(body)))
            self.send_response(200 if ok else 500)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.got, server.attempts, server.lock = got, attempts, lock
    server.url = f"http://127.0.0.1:{server.server_address[1]}/done"
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def srv(model_repo, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("log_jobs")
    tokens = log_dir / "tokens"
    tokens.write_text(f"{TOKEN_A} infer\n{TOKEN_B} infer\n")
    s = start_server(model_repo, log_dir,
                     ["--jobs-db", str(log_dir / "jobs.db"), "--jobs-callbacks",
                      "--auth-token-file", str(tokens), "--jobs-workers", "1",
                      "--jobs-max-queued", "3"])
    yield s
    stop_server(s)
    assert TOKEN_A not in s.log_path.read_text(errors="replace")


def test_async_infer_answers_202_and_then_the_same_json_as_a_sync_infer(srv):
    r = submit(srv, "simple", SIMPLE, TOKEN_A)
    assert r.status_code == 202, r.text
    assert r.headers["Preference-Applied"] == "respond-async"
    location = r.headers["Location"]
    assert location == "/v2/jobs/" + r.json()["id"]
    assert r.json()["state"] == "queued"
    done = wait_done(srv, location, TOKEN_A)
    assert done.status_code == 200 and done.headers["Inferd-Job-State"] == "done"
    sync = requests.post(srv.base_url + "/v2/models/simple/infer", json=SIMPLE,
                         headers=auth(TOKEN_A), timeout=TIMEOUT_S)
    assert done.json()["outputs"] == sync.json()["outputs"]


def test_async_infer_keeps_the_binary_extension(srv):
    x = np.arange(16, dtype=np.float32).reshape(1, 16)
    body, headers = binary_request([("INPUT0", "FP32", x), ("INPUT1", "FP32", x)])
    r = submit(srv, "simple", body, TOKEN_A, headers=headers)
    assert r.status_code == 202, r.text
    done = wait_done(srv, r.headers["Location"], TOKEN_A)
    assert done.status_code == 200
    assert done.headers["Content-Type"] == "application/octet-stream"
    head_len = int(done.headers[HEADER_LENGTH])
    head = json.loads(done.content[:head_len])
    sums = np.frombuffer(done.content[head_len:head_len + 64], dtype=np.float32)
    assert head["outputs"][0]["name"] == "OUTPUT0"
    assert sums.tolist() == (2 * x).ravel().tolist()


def test_a_failed_job_says_why(srv):
    bad = {"inputs": [{"name": "NOPE", "datatype": "FP32", "shape": [1], "data": [1.0]}]}
    r = submit(srv, "simple", bad, TOKEN_A)
    assert r.status_code == 202
    done = wait_done(srv, r.headers["Location"], TOKEN_A)
    assert done.status_code == 200 and done.json()["state"] == "failed"
    assert done.json()["error"]


def test_jobs_are_visible_only_to_the_token_that_created_them(srv):
    r = submit(srv, "simple", SIMPLE, TOKEN_A)
    location = r.headers["Location"]
    wait_done(srv, location, TOKEN_A)
    other = requests.get(srv.base_url + location, headers=auth(TOKEN_B), timeout=TIMEOUT_S)
    assert other.status_code == 404
    assert requests.delete(srv.base_url + location, headers=auth(TOKEN_B),
                           timeout=TIMEOUT_S).status_code == 404
    assert requests.get(srv.base_url + location, timeout=TIMEOUT_S).status_code == 401
    ids_b = [j["id"] for j in requests.get(srv.base_url + "/v2/jobs", headers=auth(TOKEN_B),
                                           timeout=TIMEOUT_S).json()["jobs"]]
    assert location.rsplit("/", 1)[1] not in ids_b


def test_the_list_pages_through_the_tokens_jobs(srv):
    mine = set()
    for _ in range(3):
        r = submit(srv, "simple", SIMPLE, TOKEN_B)
        assert r.status_code == 202
        mine.add(r.json()["id"])
        wait_done(srv, r.headers["Location"], TOKEN_B)
    seen, token, pages = [], None, 0
    while True:
        url = "/v2/jobs?limit=2" + (f"&page_token={token}" if token else "")
        page = requests.get(srv.base_url + url, headers=auth(TOKEN_B), timeout=TIMEOUT_S).json()
        pages += 1
        seen += [j["id"] for j in page["jobs"]]
        token = page.get("next_page_token")
        if not token:
            break
    assert mine <= set(seen) and len(seen) == len(set(seen)) and pages >= 2
    bad = requests.get(srv.base_url + "/v2/jobs?limit=0", headers=auth(TOKEN_B),
                       timeout=TIMEOUT_S)
    assert bad.status_code == 400 and "limit" in bad.json()["error"]


def test_delete_cancels_a_queued_job_and_a_full_queue_answers_429(srv):
    # One worker: the first slow job runs, the next three fill the queue (bound 3).
    ids, codes = [], []
    for _ in range(6):
        r = submit(srv, "batch_timeout", SLOW, TOKEN_A)
        codes.append(r.status_code)
        if r.status_code == 202:
            ids.append(r.json()["id"])
        else:
            assert r.status_code == 429 and r.headers["Retry-After"] == "1"
            assert "queue is full" in r.json()["error"]
    assert 429 in codes
    last = ids[-1]
    r = requests.delete(f"{srv.base_url}/v2/jobs/{last}", headers=auth(TOKEN_A),
                        timeout=TIMEOUT_S)
    assert r.status_code == 200 and r.json()["state"] == "cancelled", r.text
    for job in ids[:-1]:
        assert wait_done(srv, f"/v2/jobs/{job}", TOKEN_A).headers["Inferd-Job-State"] == "done"
    cancelled = requests.get(f"{srv.base_url}/v2/jobs/{last}", headers=auth(TOKEN_A),
                             timeout=TIMEOUT_S).json()
    assert cancelled["state"] == "cancelled" and cancelled["attempts"] == 0  # never ran
    # DELETE of an ended job removes it.
    assert requests.delete(f"{srv.base_url}/v2/jobs/{last}", headers=auth(TOKEN_A),
                           timeout=TIMEOUT_S).status_code == 204
    assert requests.get(f"{srv.base_url}/v2/jobs/{last}", headers=auth(TOKEN_A),
                        timeout=TIMEOUT_S).status_code == 404
    assert metric(srv, "inferd_jobs_rejected_total") >= 1
    assert metric(srv, 'inferd_jobs_completed_total{state="cancelled"}') >= 1


def test_the_completion_callback_is_retried_with_backoff(srv, receiver):
    r = submit(srv, "simple", SIMPLE, TOKEN_A, headers={"Inferd-Job-Callback": receiver.url})
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    start = time.monotonic()
    end = start + 10
    while time.monotonic() < end:
        with receiver.lock:
            hits = [body for _, body in receiver.got if body["id"] == job]
        if hits:
            break
        time.sleep(0.05)
    assert hits and hits[0]["state"] == "done"
    with receiver.lock:
        assert receiver.attempts[job] == 3  # two refusals, then delivered
    # Backoff: 200 ms then 400 ms between the three attempts.
    assert time.monotonic() - start >= 0.55
    assert metric(srv, 'inferd_jobs_callbacks_total{outcome="delivered"}') >= 1
    bad = submit(srv, "simple", SIMPLE, TOKEN_A, headers={"Inferd-Job-Callback": "file:///x"})
    assert bad.status_code == 400 and "callback" in bad.json()["error"]


def test_without_jobs_the_preference_is_ignored(server):
    r = requests.post(server.base_url + "/v2/models/simple/infer", json=SIMPLE, headers=ASYNC,
                      timeout=TIMEOUT_S)
    assert r.status_code == 200 and "Preference-Applied" not in r.headers
    assert r.json()["outputs"]
    r = requests.get(server.base_url + "/v2/jobs", timeout=TIMEOUT_S)
    assert r.status_code == 404 and "--jobs-db" in r.json()["error"]


def test_ended_jobs_expire_after_their_ttl(model_repo, tmp_path):
    s = start_server(model_repo, tmp_path,
                     ["--jobs-db", str(tmp_path / "jobs.db"), "--jobs-ttl-secs", "1"])
    try:
        r = submit(s, "simple", SIMPLE)
        location = r.headers["Location"]
        assert wait_done(s, location).status_code == 200
        end = time.monotonic() + 6
        while time.monotonic() < end:
            if requests.get(s.base_url + location, timeout=TIMEOUT_S).status_code == 404:
                break
            time.sleep(0.2)
        assert requests.get(s.base_url + location, timeout=TIMEOUT_S).status_code == 404
        assert metric(s, "inferd_jobs_expired_total") >= 1
    finally:
        stop_server(s)


def test_jobs_survive_kill_9(model_repo, tmp_path):
    db = tmp_path / "jobs.db"
    args = ["--jobs-db", str(db), "--jobs-workers", "2"]
    s = start_server(model_repo, tmp_path, args)
    ids = []
    try:
        for _ in range(8):
            r = submit(s, "batch_timeout", SLOW)
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])
        # Wait until two are running, then kill without any chance to clean up.
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if metric(s, "inferd_jobs_running") == 2:
                break
            time.sleep(0.02)
    finally:
        os.kill(s.proc.pid, signal.SIGKILL)
        s.proc.wait()
    # What the database holds at the kill (the WAL included), read as the next start will.
    with sqlite3.connect(db) as conn:
        states = dict(conn.execute("SELECT id, state FROM jobs").fetchall())
    assert list(states.values()).count("running") >= 1, states
    assert "queued" in states.values(), states

    s2 = start_server(model_repo, tmp_path, args)
    try:
        final = {}
        for job in ids:
            r = wait_done(s2, f"/v2/jobs/{job}")
            assert r.status_code == 200
            final[job] = r.headers["Inferd-Job-State"]
            doc = requests.get(f"{s2.base_url}/v2/jobs", params={"limit": 100},
                               timeout=TIMEOUT_S).json()
            record = next(j for j in doc["jobs"] if j["id"] == job)
            assert record["attempts"] <= 1, record  # none ran twice
            if final[job] == "failed":
                assert record["error"] == "interrupted by restart", record
        assert set(final) == set(ids)  # none lost
        # The jobs running at the kill failed; the ones still queued ran after the restart.
        for job, before in states.items():
            if before == "running":
                assert final[job] == "failed", (job, before, final[job])
            if before == "queued":
                assert final[job] == "done", (job, before, final[job])
    finally:
        stop_server(s2)
