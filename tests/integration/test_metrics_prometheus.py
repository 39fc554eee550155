"""A real Prometheus (Debian's `prometheus`) scrapes inferd on loopback, and a PromQL query over
its HTTP API returns the request count inferd served. Skipped when prometheus is not installed
(scripts/install-deps.sh installs it)."""

import json
import pathlib
import shutil
import subprocess
import time

import pytest
import requests

from conftest import _free_port, _log_tail, start_server, stop_server
from test_metrics import simple_body

PROMETHEUS = shutil.which("prometheus")
DASHBOARD = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "inferd-dashboard.json"
DEADLINE_S = 25


def _wait(predicate, what, deadline_s=DEADLINE_S, interval=0.25):
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except requests.RequestException as e:
            last = e
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what} (last: {last!r})")


@pytest.mark.skipif(PROMETHEUS is None, reason="prometheus is not installed (apt install prometheus)")
def test_prometheus_scrapes_inferd_and_promql_sees_the_requests(model_repo, tmp_path):
    repo = tmp_path / "models"
    repo.mkdir()
    shutil.copytree(model_repo / "simple", repo / "simple")
    srv = start_server(repo, tmp_path)
    port = srv.base_url.rsplit(":", 1)[1]
    prom_port = _free_port()
    (tmp_path / "prometheus.yml").write_text(f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: inferd
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:{port}"]
""")
    log = open(tmp_path / "prometheus.log", "wb")
    prom = subprocess.Popen(
        [PROMETHEUS, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{prom_port}"],
        stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{prom_port}/api/v1"
    try:
        def target_up():
            assert prom.poll() is None, _log_tail(tmp_path / "prometheus.log")
            targets = requests.get(f"{api}/targets", timeout=2).json()["data"]["activeTargets"]
            return targets and targets[0]["health"] == "up"
        _wait(target_up, "Prometheus to scrape inferd successfully")

        session = requests.Session()
        for i in range(5):
            r = session.post(srv.base_url + "/v2/models/simple/infer",
                             json=simple_body(value=float(i)), timeout=10)
            assert r.status_code == 200, r.text
        bad = simple_body()
        bad["inputs"][0]["name"] = "NOPE"
        assert session.post(srv.base_url + "/v2/models/simple/infer", json=bad,
                            timeout=10).status_code == 400

        def query(promql):
            res = requests.get(f"{api}/query", params={"query": promql}, timeout=2).json()
            assert res["status"] == "success", res
            return [float(r["value"][1]) for r in res["data"]["result"]]

        success = 'nv_inference_request_success{job="inferd",model="simple",version="1"}'
        _wait(lambda: query(success) == [5.0], "PromQL to report 5 successful requests")
        failure = 'sum(nv_inference_request_failure{model="simple"})'
        _wait(lambda: query(failure) == [1.0], "PromQL to report 1 failed request")
        # The histogram works with histogram_quantile.
        p99 = query('histogram_quantile(0.99, sum by (le) '
                    '(inferd_request_duration_seconds_bucket{model="simple"}))')
        assert len(p99) == 1 and 0 < p99[0] <= 10

        # Every query of the Grafana dashboard is valid PromQL over inferd's metrics.
        for panel in json.loads(DASHBOARD.read_text())["panels"]:
            for target in panel["targets"]:
                expr = target["expr"].replace("$__rate_interval", "1m").replace("$model", ".*")
                query(expr)
    finally:
        prom.terminate()
        try:
            prom.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prom.kill()
        log.close()
        stop_server(srv)
