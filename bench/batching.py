"""`bench/run.py batching`: dynamic batching against raw ONNX Runtime and batching off
(docs/performance.md, "Dynamic batching"). `h` is bench/run.py's module: its servers, clients
and model writers."""

import contextlib
import itertools
import json
import os
import pathlib
import tempfile
import time

import requests

TWO_INSTANCES = "instance_group { count: 2 kind: KIND_CPU }\n"
TRITON_DELAY_500 = "dynamic_batching { max_queue_delay_microseconds: 500 }\n"
TRITON_DELAY_2000 = "dynamic_batching { max_queue_delay_microseconds: 2000 }\n"
ADAPTIVE_2000 = (TRITON_DELAY_2000 +
                 'parameters { key: "adaptive_queue_delay" value { string_value: "true" } }\n')


def engine_counters(srv, model):
    """The model's executions, rows and summed engine time (batch_stats' compute_infer, ns)."""
    doc = requests.get(f"{srv.url}/v2/models/{model}/stats", timeout=10).json()["model_stats"][0]
    return (doc["execution_count"], doc["inference_count"],
            sum(b["compute_infer"]["ns"] for b in doc.get("batch_stats", [])))


def measured_wrk(h, srv, model, lua, connections):
    """h.run_wrk plus what the server saw meanwhile: rows per execution and the engine's busy
    fraction (summed engine time ÷ wall time; 1.0 = one execution always running)."""
    url = srv.url + f"/v2/models/{model}/infer"
    before, t0 = engine_counters(srv, model), time.monotonic()
    r = h.run_wrk(url, lua, connections, latency=True)
    after, wall = engine_counters(srv, model), time.monotonic() - t0
    executions, rows, engine_ns = (a - b for a, b in zip(after, before))
    r.update(rows_per_execution=rows / max(executions, 1), engine_busy=engine_ns / 1e9 / wall)
    return r


def alternate(h, servers, model, lua, levels, repeats):
    """Measures every server (label -> Inferd) at every level, alternating servers within a
    level and reversing their order on every repeat, so that a machine whose load changes
    (other builds) weighs on each config alike. Returns {(label, level): [runs]}."""
    runs = {}
    labels = list(servers)
    for rep in range(repeats):
        for c in levels:
            for label in (labels if rep % 2 == 0 else labels[::-1]):
                h.log(f"batching: {model}, {label}, {c} connections (repeat {rep + 1})")
                run = measured_wrk(h, servers[label], model, lua, c)
                runs.setdefault((label, c), []).append(run)
    return runs


def best(runs):
    """The run with the most requests/s (noise on a shared machine only ever slows a run)."""
    return max(runs, key=lambda r: r["rps"])


def scenario_batching(h):
    """Dynamic batching, measured with wrk (one thread, keep-alive, binary extension, one row per
    request), configs written as a Triton user writes them. Writes h.OUT/batching.json and
    h.OUT/batching.md:
      * engine limit: `mlp_wide` (1024 -> 2048 -> 2048 -> 10), max_batch_size 64, delay 2000 µs
        (and the adaptive delay), 64 and 128 connections, ÷ raw ONNX Runtime in-process at its
        best batch, same run;
      * never loses: batching on (delay 500 µs, no inferd parameters) ÷ off at 1, 8 and 64
        connections for a transport-bound model (the example `mlp`, 64 -> 128 -> 10) and a
        compute-bound one (`mlp_large`, 512 -> 2048 -> 2048 -> 10).
    The servers compared run side by side and are measured in turn, BENCH_REPEATS times
    (default 2, order reversed each time), each config counted by its best run.
    BENCH_BATCHING_PARTS (default engine,on_off) and BENCH_BATCHING_MODELS (default
    mlp,mlp_large) run a part only. BENCH_BASELINE_BIN=<an older inferd> serves every config a
    second time with that binary, measured in turn with the others: before/after, same run."""
    parts = os.environ.get("BENCH_BATCHING_PARTS", "engine,on_off").split(",")
    baseline = os.environ.get("BENCH_BASELINE_BIN")
    binaries = [("", None)] + ([(" (before)", pathlib.Path(baseline))] if baseline else [])
    models = os.environ.get("BENCH_BATCHING_MODELS", "mlp,mlp_large").split(",")
    repeats = int(os.environ.get("BENCH_REPEATS", "2"))
    result = {"engine_limit": [], "on_off": [], "repeats": repeats}
    with tempfile.TemporaryDirectory() as d, contextlib.ExitStack() as stack:
        d = pathlib.Path(d)
        wide, large = d / "mlp_wide.onnx", d / "mlp_large.onnx"
        if "engine" in parts:
            h.write_mlp(wide, [1024, 2048, 2048, 10], "mlp_wide")
            h.log("batching: raw ORT mlp_wide")
            raw, raw_top = h.raw_best(wide)
            result["mlp_wide_raw"] = [raw]
            lua = h.mlp_binary_lua(d / "wide.lua", 1024)
            # 1 instance on the shared pool of 2 threads (the default), and 2 instances:
            # sharing the pool, or each with a pool of its own of one thread (Triton's
            # per-session pools).
            own_pools = ("--backend-config", "onnxruntime,enable-global-threadpool=0")
            servers = {}
            for label, batching, args in (
                    ("delay 2000 µs", TRITON_DELAY_2000, ()),
                    ("adaptive, cap 2000 µs", ADAPTIVE_2000, ()),
                    ("delay 2000 µs, 2 instances", TRITON_DELAY_2000 + TWO_INSTANCES, ()),
                    ("delay 2000 µs, 2 instances × 1 thread", TRITON_DELAY_2000 + TWO_INSTANCES,
                     own_pools)):
                for suffix, binary in binaries:
                    config = h.mlp_config("mlp_wide", 1024, batching)
                    srv = stack.enter_context(
                        h.serve_one(d, "mlp_wide", wide, config, args, binary))
                    h.run_wrk(srv.url + "/v2/models/mlp_wide/infer", lua, 64)  # warm-up
                    servers[label + suffix] = srv
            runs = alternate(h, servers, "mlp_wide", lua, (64, 128), repeats)
            stack.close()
            # The engine limit again after the servers: a noisy machine is held against inferd
            # (its best run counts).
            raw_after, top_after = h.raw_best(wide, "32,64")
            result["mlp_wide_raw"].append(raw_after)
            if top_after["inferences_per_s"] > raw_top["inferences_per_s"]:
                raw_top = top_after
            for (label, c), rs in runs.items():
                top = best(rs)
                result["engine_limit"].append(
                    {"config": label, "connections": c, "rows_per_s": top["rps"],
                     "p50_us": top.get("p50_us"), "rows_per_execution": top["rows_per_execution"],
                     "engine_busy": top["engine_busy"], "all_rows_per_s": [r["rps"] for r in rs],
                     "raw_best_rows_per_s": raw_top["inferences_per_s"],
                     "raw_best_batch": raw_top["batch"],
                     "ratio": top["rps"] / raw_top["inferences_per_s"]})

        if "on_off" in parts:
            if "mlp_large" in models:
                h.write_mlp(large, [512, 2048, 2048, 10], "mlp_large")
            for model, onnx_file, width, outs in (
                    ("mlp", h.MODELS / "mlp" / "1" / "model.onnx", 64, ("logits", "probabilities")),
                    ("mlp_large", large, 512, ("logits",))):
                if model not in models:
                    continue
                lua = h.mlp_binary_lua(d / f"{model}.lua", width)
                servers = {}
                for (mode, batching), (suffix, binary) in itertools.product(
                        (("off", ""), ("on", TRITON_DELAY_500)), binaries):
                    config = h.mlp_config(model, width, batching, outs)
                    srv = stack.enter_context(
                        h.serve_one(d, model, onnx_file, config, (), binary))
                    # Warm-up at the first level: the batcher's view of how many clients
                    # there are follows the load within two 100 ms windows.
                    h.run_wrk(srv.url + f"/v2/models/{model}/infer", lua, 1)
                    servers[mode + suffix] = srv
                runs = alternate(h, servers, model, lua, (1, 8, 64), repeats)
                stack.close()
                for (suffix, _), c in itertools.product(binaries, (1, 8, 64)):
                    off, on = best(runs[("off" + suffix, c)]), best(runs[("on" + suffix, c)])
                    result["on_off"].append(
                        {"model": model + suffix, "connections": c, "off_rps": off["rps"],
                         "on_rps": on["rps"], "off_p50_us": off.get("p50_us"),
                         "on_p50_us": on.get("p50_us"),
                         "on_rows_per_execution": on["rows_per_execution"],
                         "off_all_rps": [r["rps"] for r in runs[("off" + suffix, c)]],
                         "on_all_rps": [r["rps"] for r in runs[("on" + suffix, c)]],
                         "ratio": on["rps"] / off["rps"]})
    (h.OUT / "batching.json").write_text(json.dumps(result, indent=2))
    lines = ["| model, config | connections | rows/s | raw ORT best (batch) | ratio | p50 µs | "
             "rows/execution | engine busy |", "|---|---|---|---|---|---|---|---|"]
    for e in result["engine_limit"]:
        lines.append(f"| mlp_wide, {e['config']} | {e['connections']} | {e['rows_per_s']:.0f} | "
                     f"{e['raw_best_rows_per_s']:.0f} ({e['raw_best_batch']}) | "
                     f"**{e['ratio']:.2f}** | {e['p50_us'] or 0:.0f} | "
                     f"{e['rows_per_execution']:.1f} | {e['engine_busy']:.2f} |")
    lines += ["", "| model | connections | off req/s | on req/s | on ÷ off | p50 off µs | "
              "p50 on µs | rows/execution on |", "|---|---|---|---|---|---|---|---|"]
    for e in result["on_off"]:
        lines.append(f"| {e['model']} | {e['connections']} | {e['off_rps']:.0f} | "
                     f"{e['on_rps']:.0f} | **{e['ratio']:.2f}** | {e['off_p50_us'] or 0:.0f} | "
                     f"{e['on_p50_us'] or 0:.0f} | {e['on_rows_per_execution']:.1f} |")
    table = "\n".join(lines) + "\n"
    (h.OUT / "batching.md").write_text(table)
    print(table)
