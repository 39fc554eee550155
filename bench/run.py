#!/usr/bin/python3
"""inferd's benchmark scenarios, one command each (see docs/performance.md):

    bench/run.py ort_raw      # (a) raw ONNX Runtime in-process, batch 1 and the best batch
    bench/run.py inferd       # (b) inferd: HTTP JSON, HTTP binary, gRPC at concurrency 1/8/64
    bench/run.py nginx        # (c) nginx `return 200` with the same client (+ wrk, to check it)
    bench/run.py node         # (d) a plain Node.js server on onnxruntime-node 1.30, same model
    bench/run.py startup      # cold start (exec -> first successful response) and RSS
    bench/run.py json_decode  # JSON decode MB/s of a 1 MB FP32 tensor (Google Benchmark)
    bench/run.py batching     # dynamic batching off vs on (mlp, mlp_large) against raw ORT
    bench/run.py transport    # wrk: inferd vs nginx `return 200`, tiny model, JSON and binary
    bench/run.py allocs       # heap allocations per request: HTTP binary, HTTP JSON, gRPC
    bench/run.py torch        # TorchScript mlp_torch through inferd vs libtorch in-process
    bench/run.py predict      # `inferd predict` mlp_wide over a file: in-process ÷ raw ORT,
                              # against a server ÷ in-process (BENCH_PREDICT_ROWS, default 50000)
    bench/run.py all          # every scenario in one run, then the ratio table

Results go to $BENCH_OUT (default $BUILD_DIR/bench-results/, JSON and SVG per scenario);
bench/report_ratios.py turns them into the table (ratios.md there).
Knobs: BENCH_DURATION (s measured per level, default 3),
BENCH_WARMUP (s, default 1), BENCH_CONCURRENCY (default 1,8,64), BUILD_DIR (default
build-bench; configured when new, then brought up to date with -j$JOBS, default 2, before
every run unless BENCH_BUILD=0), INFERD_SERVER_BIN (the inferd that serves; default the one of BUILD_DIR).
batching: BENCH_REPEATS (alternated runs per config, default 2), BENCH_BATCHING_PARTS
(engine,on_off), BENCH_BATCHING_MODELS (mlp,mlp_large), BENCH_BASELINE_BIN (an older inferd
measured in turn with the current one: before/after in one run).
"""

import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = pathlib.Path(os.environ.get("BUILD_DIR", ROOT / "build-bench"))
OUT = pathlib.Path(os.environ.get("BENCH_OUT", BUILD / "bench-results"))
DURATION = os.environ.get("BENCH_DURATION", "3")
WARMUP = os.environ.get("BENCH_WARMUP", "1")
LEVELS = os.environ.get("BENCH_CONCURRENCY", "1,8,64")
MODELS = ROOT / "examples" / "models"
INFERD = BUILD / "apps" / "inferd" / "inferd"
# The server measured; defaults to the same build as the `inferd bench` client.
SERVER = pathlib.Path(os.environ.get("INFERD_SERVER_BIN", INFERD))
ORT_RAW = BUILD / "bench" / "ort_raw_bench"
JSON_DECODE = BUILD / "bench" / "json_decode_bench"
ALLOC_COUNTER = BUILD / "bench" / "libinferd_alloc_counter.so"
TORCH_RAW = BUILD / "bench" / "torch_raw_bench"
ORT_NODE_VERSION = "1.30.0"


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def build():
    targets = ["inferd", "ort_raw_bench", "json_decode_bench", "inferd_alloc_counter"]
    # Always brought up to date (a no-op ninja run takes well under a second): a stale
    # binary measured by mistake costs a whole run. BENCH_BUILD=0 skips it (to measure
    # a build dir exactly as it is).
    if os.environ.get("BENCH_BUILD") == "0":
        return
    if not (BUILD / "build.ninja").exists():
        subprocess.run(["cmake", "-S", ROOT, "-B", BUILD, "-G", "Ninja",
                        "-DCMAKE_BUILD_TYPE=Release"], check=True)
    subprocess.run(["ninja", "-C", BUILD, f"-j{os.environ.get('JOBS', '2')}", *targets],
                   check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, timeout=30, method="GET", **kwargs):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"process exited with {proc.returncode} while waiting for {url}")
        try:
            if requests.request(method, url, timeout=2, **kwargs).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.005)
    sys.exit(f"{url} did not answer 200 within {timeout}s")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Inferd:
    """`inferd serve` on free loopback ports over `repo`."""

    def __init__(self, repo=MODELS, env=None, args=(), server=None):
        self.http_port, self.grpc_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.grpc = f"127.0.0.1:{self.grpc_port}"
        self.log = open(OUT / "inferd.log", "ab")
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [server or SERVER, "serve", "--model-repository", repo,
             "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port),
             "--log-level", "warn", *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def __enter__(self):
        wait_http(self.url + "/v2/health/ready", self.proc)
        return self

    def __exit__(self, *exc):
        stop(self.proc)
        self.log.close()


def input_file(model):
    """A v2 JSON request body for `model`, for servers without a metadata endpoint."""
    path = OUT / f"input_{model}.json"
    if model == "mlp":
        inputs = [{"name": "input", "datatype": "FP32", "shape": [1, 64],
                   "data": [round((i % 17) / 17, 4) for i in range(64)]}]
    else:
        inputs = [{"name": n, "datatype": "FP32", "shape": [1, 16],
                   "data": [float(i) for i in range(16)]} for n in ("INPUT0", "INPUT1")]
    path.write_text(json.dumps({"inputs": inputs}))
    return path


def inferd_bench(name, url, model, *extra, levels=LEVELS):
    """Runs `inferd bench` and stores its JSON as OUT/<name>.json."""
    out = OUT / f"{name}.json"
    log(f"{name}: {model} at {url}, concurrency {levels}")
    subprocess.run([INFERD, "bench", "--url", url, "--model", model, "--concurrency", levels,
                    "--duration", DURATION, "--warmup", WARMUP, "--max-windows", "6",
                    "--json", out, "--svg", OUT / f"{name}.svg", "--quiet", *extra], check=True)


def scenario_ort_raw():
    log("ort_raw: mlp in-process, batch 1..64")
    res = subprocess.run([ORT_RAW, "--model", MODELS / "mlp" / "1" / "model.onnx", "--batch",
                          "1,8,16,32,64", "--duration", DURATION], check=True,
                         capture_output=True, text=True)
    (OUT / "ort_raw.json").write_text(res.stdout)


def scenario_inferd():
    with Inferd() as srv:
        inferd_bench("inferd_simple_json", srv.url, "simple")
        inferd_bench("inferd_mlp_json", srv.url, "mlp")
        inferd_bench("inferd_mlp_binary", srv.url, "mlp", "--binary")
        inferd_bench("inferd_mlp_grpc", srv.grpc, "mlp", "--protocol", "grpc")
        inferd_bench("inferd_mlp_binary_b64", srv.url, "mlp", "--binary", "--batch-size", "64",
                     levels="1,8")


NGINX_CONF = """worker_processes 1;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {{
    listen 127.0.0.1:{port};
    location / {{ default_type application/json; return 200 '{body}'; }}
  }}
}}
"""


def scenario_nginx():
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        sys.exit("nginx not found: scripts/install-deps.sh installs nginx-light")
    with tempfile.TemporaryDirectory() as d:
        port = free_port()
        # The answer of `simple` for the input file, so the response size matches inferd's.
        body = ('{"model_name":"simple","model_version":"1","outputs":[{"name":"OUTPUT0",'
                '"datatype":"FP32","shape":[1,16],"data":[' + ",".join(["0"] * 16) + ']},'
                '{"name":"OUTPUT1","datatype":"FP32","shape":[1,16],"data":[' +
                ",".join(["0"] * 16) + ']}]}')
        conf = pathlib.Path(d) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=d, port=port, body=body))
        proc = subprocess.Popen([nginx, "-p", d, "-c", conf, "-g", "daemon off;"],
                                stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/", proc)
            inferd_bench("nginx_simple_json", url, "simple", "--input-data",
                         input_file("simple"))
            wrk = shutil.which("wrk")
            if wrk:  # a reference generator on the same target: is `inferd bench` the limit?
                lua = pathlib.Path(d) / "post.lua"
                lua.write_text('wrk.method = "POST"\nwrk.body = [[' +
                               input_file("simple").read_text() + ']]\n'
                               'wrk.headers["Content-Type"] = "application/json"\n')
                results = {}
                for c in (1, 8, 64):
                    log(f"wrk: nginx at {c} connections")
                    r = subprocess.run([wrk, "-t", "1", "-c", str(c), "-d", f"{DURATION}s",
                                        "-s", lua, url + "/v2/models/simple/infer"],
                                       capture_output=True, text=True, check=True)
                    for line in r.stdout.splitlines():
                        if line.startswith("Requests/sec:"):
                            results[str(c)] = float(line.split()[1])
                (OUT / "wrk_nginx.json").write_text(json.dumps({"rps": results}, indent=2))
        finally:
            stop(proc)


def scenario_node():
    if not shutil.which("node") or not shutil.which("npm"):
        sys.exit("node and npm are needed for the Node.js scenario")
    with tempfile.TemporaryDirectory() as prefix:
        log(f"node: npm install onnxruntime-node@{ORT_NODE_VERSION} into {prefix}")
        # The CPU library ships in the package; skip the install script's CUDA download.
        env = dict(os.environ, ONNXRUNTIME_NODE_INSTALL="skip",
                   ONNXRUNTIME_NODE_INSTALL_CUDA="skip")
        subprocess.run(["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix",
                        prefix, f"onnxruntime-node@{ORT_NODE_VERSION}"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        port = free_port()
        env["NODE_PATH"] = str(pathlib.Path(prefix) / "node_modules")
        proc = subprocess.Popen(["node", ROOT / "bench" / "node" / "server.js", "--model-name",
                                 "mlp", "--model", MODELS / "mlp" / "1" / "model.onnx",
                                 "--port", str(port)], env=env, stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/v2/health/ready", proc)
            inferd_bench("node_mlp_json", url, "mlp", "--input-data", input_file("mlp"))
        finally:
            stop(proc)


def rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def scenario_startup():
    body = json.loads(input_file("mlp").read_text())
    result = {}
    with tempfile.TemporaryDirectory() as d:
        empty = pathlib.Path(d) / "empty"
        empty.mkdir()
        only_mlp = pathlib.Path(d) / "mlp"
        only_mlp.mkdir()
        shutil.copytree(MODELS / "mlp", only_mlp / "mlp")
        cold = []
        for _ in range(3):
            srv = Inferd(only_mlp)
            try:
                wait_http(srv.url + "/v2/models/mlp/infer", srv.proc, method="POST", json=body)
                cold.append((time.monotonic() - srv.t0) * 1000)
                session = requests.Session()
                for _ in range(2000):
                    session.post(srv.url + "/v2/models/mlp/infer", json=body).raise_for_status()
                result["rss_mlp_kib"] = rss_kib(srv.proc.pid)
            finally:
                stop(srv.proc)
                srv.log.close()
        result["cold_start_ms"] = sorted(cold)[len(cold) // 2]
        result["cold_start_runs_ms"] = cold
        with Inferd(empty) as srv:
            time.sleep(0.5)
            result["rss_empty_kib"] = rss_kib(srv.proc.pid)
    log(f"startup: {result}")
    (OUT / "startup.json").write_text(json.dumps(result, indent=2))


def scenario_json_decode():
    log("json_decode: 1 MB FP32 tensor")
    subprocess.run([JSON_DECODE, "--benchmark_format=json", "--benchmark_min_time=1",
                    f"--benchmark_out={OUT / 'json_decode.json'}"], check=True,
                   stdout=subprocess.DEVNULL)


def mlp_config(name, width, batching="", outputs=("logits",)):
    return (f'name: "{name}"\nmax_batch_size: 64\n'
            f'input {{ name: "input" data_type: TYPE_FP32 dims: [ {width} ] }}\n' +
            "".join(f'output {{ name: "{o}" data_type: TYPE_FP32 dims: [ 10 ] }}\n'
                    for o in outputs) + batching)


def write_mlp(path, dims, name):
    """A dense ReLU MLP with `dims` (Gemm + Relu, FP32, fixed seed): 1024 -> 2048 -> 2048 -> 10
    is ~12.6 MFLOP a row and 25 MB of weights, the kind of model where the engine, not the
    transport, is the cost."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.RandomState(7)
    nodes, inits, prev = [], [], "input"
    layers = len(dims) - 1
    for i in range(layers):
        w = (rng.standard_normal((dims[i], dims[i + 1])) / np.sqrt(dims[i])).astype(np.float32)
        b = np.zeros(dims[i + 1], np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == layers - 1
        out = "logits" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out if last else f"g{i}"]))
        if not last:
            nodes.append(helper.make_node("Relu", [f"g{i}"], [out]))
        prev = out
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", dims[0]])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", dims[-1]])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def mlp_binary_lua(path, width, output="logits"):
    """A wrk script sending one row of `width` FP32 values with the binary extension."""
    import struct
    header = json.dumps({"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, width],
                                     "parameters": {"binary_data_size": 4 * width}}],
                         "outputs": [{"name": output, "parameters": {"binary_data": True}}]},
                        separators=(",", ":"))
    body = header.encode() + struct.pack(f"<{width}f", *[(i % 17) / 17 for i in range(width)])
    return wrk_lua(path, body, len(header))


def serve_one(d, name, onnx_file, config, args=(), server=None):
    """A repository under `d` holding `onnx_file` as model `name` with `config` (served by
    `server`, default SERVER)."""
    repo = d / f"repo_{name}_{abs(hash((config, *args))) % 10**8}"
    if not repo.exists():
        (repo / name / "1").mkdir(parents=True)
        shutil.copy(onnx_file, repo / name / "1" / "model.onnx")
        (repo / name / "config.pbtxt").write_text(config)
    return Inferd(repo, args=args, server=server)


def raw_best(onnx_file, batches="1,8,16,32,64"):
    raw = json.loads(subprocess.run(
        [ORT_RAW, "--model", onnx_file, "--batch", batches, "--duration", DURATION], check=True,
        capture_output=True, text=True).stdout)
    return raw, max(raw["levels"], key=lambda l: l["inferences_per_s"])


def scenario_batching():
    """bench/batching.py, given this module's helpers."""
    sys.path.insert(0, str(ROOT / "bench"))
    import batching
    batching.scenario_batching(sys.modules[__name__])


TINY_CONFIG = """name: "tiny"
max_batch_size: 0
input { name: "INPUT0" data_type: TYPE_FP32 dims: [ 1, 4 ] }
output { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ 1, 4 ] }
"""
TINY_JSON = ('{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[1,4],'
             '"data":[1.0,2.0,3.0,4.0]}]}')
TINY_JSON_ANSWER = ('{"model_name":"tiny","model_version":"1","outputs":[{"name":"OUTPUT0",'
                    '"datatype":"FP32","shape":[1,4],"data":[1.0,2.0,3.0,4.0]}]}')


def tiny_repo(root, config=None):
    """A repository with `tiny`: FP32 [1,4] in, the same out (Identity), unbatched (`config`:
    its config.pbtxt, TINY_CONFIG by default). tests/integration/test_allocations.py uses it
    too."""
    import onnx
    from onnx import TensorProto, helper
    model_dir = root / "tiny" / "1"
    model_dir.mkdir(parents=True)
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT0"], ["OUTPUT0"])], "tiny",
        [helper.make_tensor_value_info("INPUT0", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("OUTPUT0", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, model_dir / "model.onnx")
    (root / "tiny" / "config.pbtxt").write_text(config or TINY_CONFIG)
    return root


def tiny_binary_body():
    """The binary-extension request for `tiny`, and its JSON header's length."""
    header = json.dumps({"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [1, 4],
                                     "parameters": {"binary_data_size": 16}}],
                         "outputs": [{"name": "OUTPUT0",
                                      "parameters": {"binary_data": True}}]},
                        separators=(",", ":"))
    import struct
    return header.encode() + struct.pack("<4f", 1, 2, 3, 4), len(header)


def wrk_lua(path, body, header_length=None):
    """A wrk script that POSTs `body` (bytes), as JSON or as the binary extension."""
    escaped = "".join(f"\\{b:03d}" for b in body)
    lines = ['wrk.method = "POST"', f'wrk.body = "{escaped}"']
    if header_length is None:
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    else:
        lines.append('wrk.headers["Content-Type"] = "application/octet-stream"')
        lines.append(f'wrk.headers["Inference-Header-Content-Length"] = "{header_length}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(url, lua, connections, latency=False):
    """wrk -t1 against url: {"rps", "p50_us"}."""
    wrk = shutil.which("wrk")
    if not wrk:
        sys.exit("wrk not found: scripts/install-deps.sh installs it")
    args = [wrk, "-t", "1", "-c", str(connections), "-d", f"{DURATION}s", "-s", lua]
    if latency:
        args.append("--latency")
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(parts[1])
        elif parts and parts[0] == "50%":
            v = parts[1]
            scale = 1000.0 if v.endswith("ms") else (1e6 if v.endswith("s") and
                                                     not v.endswith("us") else 1.0)
            result["p50_us"] = float(v.rstrip("msu")) * scale
    return result


def nginx_serving(d, body):
    """Starts nginx (one worker) answering every request with 200 and `body`."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(nginx, os.X_OK):
        sys.exit("nginx not found: scripts/install-deps.sh installs nginx-light")
    port = free_port()
    conf = pathlib.Path(d) / "nginx.conf"
    conf.write_text(NGINX_CONF.format(dir=d, port=port, body=body))
    proc = subprocess.Popen([nginx, "-p", d, "-c", conf, "-g", "daemon off;"],
                            stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/", proc)
    return proc, f"http://127.0.0.1:{port}"


def scenario_transport():
    """The transport limit, measured with wrk (one thread) for both servers: inferd serving the
    tiny model, nginx answering `return 200` with inferd's JSON answer. Runs alternate between
    the two servers, REPEATS times, so both see the same machine; medians are kept.
    BENCH_BASELINE_BIN=<an older inferd> serves the same repository beside the current one and
    is measured in turn with it ("baseline" runs): before/after in one run."""
    repeats = int(os.environ.get("BENCH_REPEATS", "3"))
    baseline = os.environ.get("BENCH_BASELINE_BIN")
    result = {"repeats": repeats}
    if baseline:
        result["baseline_bin"] = baseline
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        repo = tiny_repo(d / "repo")
        json_lua = wrk_lua(d / "json.lua", TINY_JSON.encode())
        body, header_length = tiny_binary_body()
        binary_lua = wrk_lua(d / "binary.lua", body, header_length)
        (d / "nginx").mkdir()
        nginx, nginx_url = nginx_serving(d / "nginx", TINY_JSON_ANSWER)
        try:
            with contextlib.ExitStack() as stack:
                urls = {"inferd": stack.enter_context(Inferd(repo)).url}
                if baseline:
                    urls["baseline"] = stack.enter_context(Inferd(repo, server=baseline)).url
                urls = {k: v + "/v2/models/tiny/infer" for k, v in urls.items()}
                urls["nginx"] = nginx_url + "/v2/models/tiny/infer"
                for name, lua in (("json", json_lua), ("binary", binary_lua)):
                    for c in (1, 64):
                        runs = {k: [] for k in urls}
                        for i in range(repeats):
                            log(f"transport: {name}, {c} connections")
                            # The order turns each repeat, so no server always runs first.
                            order = list(urls)[i % len(urls):] + list(urls)[:i % len(urls)]
                            for k in order:
                                runs[k].append(run_wrk(urls[k], lua, c, latency=True))
                        result[f"{name}_c{c}"] = runs
        finally:
            stop(nginx)
        res = subprocess.run([ORT_RAW, "--model", repo / "tiny" / "1" / "model.onnx", "--batch",
                              "1", "--duration", DURATION], check=True, capture_output=True,
                             text=True)
        result["ort_raw"] = json.loads(res.stdout)
    (OUT / "transport.json").write_text(json.dumps(result, indent=2))


def alloc_count(srv, count_file):
    srv.proc.send_signal(signal.SIGUSR2)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.05)
        text = count_file.read_text() if count_file.exists() else ""
        if text.endswith("\n"):
            count_file.unlink()
            return int(text)
    sys.exit("the allocation counter did not answer SIGUSR2")


def inference_count(srv, model):
    doc = requests.get(f"{srv.url}/v2/models/{model}/stats", timeout=10).json()
    return doc["model_stats"][0]["inference_count"]


def scenario_allocs():
    """Heap allocations per request at steady state: inferd runs with a malloc-counting
    preload; after a warm-up, one client sends requests on one connection, and the count's
    growth is divided by the requests the server counted."""
    result = {}
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        repo = tiny_repo(d / "repo")
        count_file = d / "allocs"
        env = dict(os.environ, LD_PRELOAD=str(ALLOC_COUNTER),
                   INFERD_ALLOC_COUNT_FILE=str(count_file))
        json_lua = wrk_lua(d / "json.lua", TINY_JSON.encode())
        body, header_length = tiny_binary_body()
        binary_lua = wrk_lua(d / "binary.lua", body, header_length)
        with Inferd(repo, env=env) as srv:
            url = srv.url + "/v2/models/tiny/infer"
            input_path = d / "input.json"
            input_path.write_text(TINY_JSON)
            clients = {
                "http_binary": lambda: run_wrk(url, binary_lua, 1),
                "http_json": lambda: run_wrk(url, json_lua, 1),
                "grpc": lambda: subprocess.run(
                    [INFERD, "bench", "--url", srv.grpc, "--protocol", "grpc", "--model", "tiny",
                     "--input-data", input_path, "--concurrency", "1", "--duration", DURATION,
                     "--warmup", "0", "--quiet"], check=True, stdout=subprocess.DEVNULL),
            }
            for name, send in clients.items():
                send()  # warm-up: connection, buffers and pools reach their steady size
                before, served = alloc_count(srv, count_file), inference_count(srv, "tiny")
                send()
                after, served_after = alloc_count(srv, count_file), inference_count(srv, "tiny")
                per_request = (after - before) / max(1, served_after - served)
                log(f"allocs: {name}: {per_request:.2f} per request "
                    f"({after - before} over {served_after - served})")
                result[name] = {"allocations": after - before, "requests": served_after - served,
                                "per_request": per_request}
    (OUT / "allocs.json").write_text(json.dumps(result, indent=2))


def scenario_torch():
    """TorchScript through inferd ÷ libtorch in-process, same model file (mlp_torch), same run:
    batch 1 (one-row binary requests at concurrency 1 and 8) and batch 64 (64-row requests).
    Light on purpose (concurrency <= 8): a 2-core box shares its cores with the client.
    Writes OUT/torch.md."""
    if not TORCH_RAW.exists():
        subprocess.run(["ninja", "-C", BUILD, f"-j{os.environ.get('JOBS', '2')}",
                        "torch_raw_bench"], check=True)
    model_file = MODELS / "mlp_torch" / "1" / "model.pt"
    log("torch: libtorch in-process, batch 1 and 64")
    raw = json.loads(subprocess.run(
        [TORCH_RAW, "--model", model_file, "--dims", "64", "--batch", "1,64", "--duration",
         DURATION], check=True, capture_output=True, text=True).stdout)
    (OUT / "torch_raw.json").write_text(json.dumps(raw))
    raw_by_batch = {l["batch"]: l for l in raw["levels"]}
    with Inferd() as srv:
        inferd_bench("torch_inferd_b1", srv.url, "mlp_torch", "--binary", levels="1,8")
        inferd_bench("torch_inferd_b64", srv.url, "mlp_torch", "--binary", "--batch-size", "64",
                     levels="1,8")
    lines = ["| measure | value |", "|---|---|"]
    for batch in (1, 64):
        res = json.loads((OUT / f"torch_inferd_b{batch}.json").read_text())
        r = raw_by_batch[batch]
        for level in res["levels"]:
            inf_s = level["throughput_rps"] * batch
            lines.append(f"| inferd ÷ libtorch in-process, mlp_torch, batch {batch}, "
                         f"concurrency {level['concurrency']} (inferences/s) | "
                         f"{inf_s / r['inferences_per_s']:.2f} |")
        c1 = res["levels"][0]
        lines.append(f"| added p50 latency, batch {batch}, concurrency 1 (µs over libtorch "
                     f"forward) | {c1['latency_us']['p50'] - r['latency_us']['p50']:.0f} |")
    lines.append("")
    lines.append("| engine | batch | forward()/s | inferences/s | p50 µs |")
    lines.append("|---|---|---|---|---|")
    for l in raw["levels"]:
        lines.append(f"| libtorch in-process | {l['batch']} | {l['runs_per_s']:.0f} | "
                     f"{l['inferences_per_s']:.0f} | {l['latency_us']['p50']:.1f} |")
    for batch in (1, 64):
        res = json.loads((OUT / f"torch_inferd_b{batch}.json").read_text())
        for level in res["levels"]:
            lines.append(f"| inferd binary, concurrency {level['concurrency']} | {batch} | "
                         f"{level['throughput_rps']:.0f} | "
                         f"{level['throughput_rps'] * batch:.0f} | "
                         f"{level['latency_us']['p50']:.1f} |")
    table = "\n".join(lines) + "\n"
    (OUT / "torch.md").write_text(table)
    print(table)


def predict_rows_per_s(args):
    """Runs `inferd predict ARGS`; its rows/s from the summary (model load not counted)."""
    res = subprocess.run([INFERD, "predict", *map(str, args), "--progress-secs", "0"],
                         check=True, capture_output=True, text=True)
    m = re.search(r"in ([0-9.]+)s \(([0-9]+) rows/s\)", res.stderr)
    if not m:
        sys.exit(f"no summary in predict's output:\n{res.stderr}")
    return float(m.group(2)), float(m.group(1))


def scenario_predict():
    """Batch prediction (docs/batch.md): `inferd predict` scoring an .npy of BENCH_PREDICT_ROWS
    rows with mlp_wide (1024 -> 2048 -> 2048 -> 10, ~6.3 M MACs a row, max_batch_size 256)
    in-process ÷ raw ONNX Runtime in-process at its best batch, and `predict --url` against an
    `inferd serve` of the same repository (HTTP, binary tensors) ÷ in-process, same run. A short
    sweep (before and after) finds raw ORT's best batch; then raw ORT at that batch for as long as
    it takes to score the same rows, in-process predict and predict against the server alternate
    BENCH_REPEATS times, and each counts by its best run: the ratios compare runs of equal
    length, not a 3-second window's best moment with a run of minutes. Writes OUT/predict.json
    and predict.md."""
    import numpy as np
    rows = int(os.environ.get("BENCH_PREDICT_ROWS", "50000"))
    result = {"rows": rows}
    with tempfile.TemporaryDirectory() as d:
        d = pathlib.Path(d)
        wide = d / "mlp_wide.onnx"
        write_mlp(wide, [1024, 2048, 2048, 10], "mlp_wide")
        repo = d / "repo"
        (repo / "mlp_wide" / "1").mkdir(parents=True)
        shutil.copy(wide, repo / "mlp_wide" / "1" / "model.onnx")
        (repo / "mlp_wide" / "config.pbtxt").write_text(
            mlp_config("mlp_wide", 1024).replace("max_batch_size: 64", "max_batch_size: 256"))
        data = np.lib.format.open_memmap(d / "in.npy", mode="w+", dtype=np.float32,
                                         shape=(rows, 1024))
        rng = np.random.RandomState(3)
        for start in range(0, rows, 4096):
            n = min(4096, rows - start)
            data[start:start + n] = rng.standard_normal((n, 1024)).astype(np.float32)
        data.flush()
        del data
        batches = "32,64,128,256"
        log("predict: raw ORT mlp_wide")
        raw, best = raw_best(wide, batches)
        # predict sends requests of the batch size raw ORT ran best at: both run the same batches.
        common = ["--model", "mlp_wide", "--input", d / "in.npy", "--outputs", "logits",
                  "--block-rows", 1024, "--in-flight", 4, "--batch-size", best["batch"]]
        # The two modes alternate BENCH_REPEATS times (default 2); each counts by its best run,
        # as raw ORT does, so that a burst of load on a shared machine hits neither alone.
        inproc = remote = inproc_s = remote_s = 0
        raw_runs, inproc_runs, remote_runs = [], [], []
        raw_seconds = max(1, round(rows / best["inferences_per_s"]))
        with Inferd(repo) as srv:
            for _ in range(int(os.environ.get("BENCH_REPEATS", "2"))):
                log(f"predict: raw ORT at batch {best['batch']} for {raw_seconds}s "
                    f"(about {rows} rows)")
                raw_runs.append(json.loads(subprocess.run(
                    [ORT_RAW, "--model", wide, "--batch", str(best["batch"]), "--duration",
                     str(raw_seconds)], check=True, capture_output=True,
                    text=True).stdout)["levels"][0])
                log(f"predict: in-process, {rows} rows")
                rate, secs = predict_rows_per_s(
                    ["--model-repository", repo, *common, "--output", d / "local.npy"])
                inproc_runs.append(rate)
                if rate > inproc:
                    inproc, inproc_s = rate, secs
                log(f"predict: against a server, {rows} rows")
                rate, secs = predict_rows_per_s(
                    ["--url", srv.url, *common, "--output", d / "remote.npy"])
                remote_runs.append(rate)
                if rate > remote:
                    remote, remote_s = rate, secs
        raw_after, best_after = raw_best(wide, batches)
        raw_long = max(r["inferences_per_s"] for r in raw_runs)
        same = bool(np.allclose(np.load(d / "local.npy"), np.load(d / "remote.npy"),
                                rtol=1e-4, atol=1e-5))
    result.update(raw_sweeps=[raw, raw_after], raw_best_batch=best["batch"],
                  raw_sweep_best_rows_per_s=max(best["inferences_per_s"],
                                                best_after["inferences_per_s"]),
                  raw_runs=raw_runs, raw_rows_per_s=raw_long, in_process_rows_per_s=inproc,
                  in_process_seconds=inproc_s, server_rows_per_s=remote,
                  server_seconds=remote_s, outputs_match=same,
                  in_process_over_raw=inproc / raw_long,
                  server_over_in_process=remote / inproc,
                  # Each repeat's runs, and the ratio within each repeat (runs minutes apart).
                  in_process_runs=inproc_runs, server_runs=remote_runs,
                  in_process_over_raw_by_repeat=[
                      i / r["inferences_per_s"] for i, r in zip(inproc_runs, raw_runs)])
    (OUT / "predict.json").write_text(json.dumps(result, indent=2))
    table = (f"| mlp_wide, {rows} rows | rows/s | ratio |\n|---|---|---|\n"
             f"| raw ONNX Runtime at its best batch ({best['batch']}), {raw_seconds} s runs | "
             f"{raw_long:.0f} | 1 |\n"
             f"| (raw ONNX Runtime, best 3-second window of the sweeps) | "
             f"{result['raw_sweep_best_rows_per_s']:.0f} | |\n"
             f"| `inferd predict`, in-process | {inproc:.0f} | "
             f"{result['in_process_over_raw']:.2f} × raw |\n"
             f"| `inferd predict --url` (HTTP binary) | {remote:.0f} | "
             f"{result['server_over_in_process']:.2f} × in-process |\n"
             "\nEach repeat (raw ORT, in-process, server): " +
             "; ".join(f"{r['inferences_per_s']:.0f}, {i:.0f}, {s:.0f}"
                       for r, i, s in zip(raw_runs, inproc_runs, remote_runs)) + "\n")
    (OUT / "predict.md").write_text(table)
    print(table)


SCENARIOS = {"transport": scenario_transport, "allocs": scenario_allocs,
             "ort_raw": scenario_ort_raw, "inferd": scenario_inferd, "nginx": scenario_nginx,
             "node": scenario_node, "startup": scenario_startup,
             "json_decode": scenario_json_decode,
             "batching": scenario_batching,
             "torch": scenario_torch, "predict": scenario_predict}


def main(argv):
    if len(argv) != 2 or argv[1] not in [*SCENARIOS, "all"]:
        sys.exit(__doc__)
    build()
    OUT.mkdir(parents=True, exist_ok=True)
    names = list(SCENARIOS) if argv[1] == "all" else [argv[1]]
    start = time.monotonic()
    for name in names:
        SCENARIOS[name]()
    if argv[1] == "all":
        subprocess.run([sys.executable, ROOT / "bench" / "report_ratios.py", OUT], check=True)
    log(f"done in {time.monotonic() - start:.0f}s; results in {OUT}")


if __name__ == "__main__":
    main(sys.argv)
