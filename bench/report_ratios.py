#!/usr/bin/python3
"""Turns the results of `bench/run.py all` into the ratio table of docs/performance.md.

    bench/report_ratios.py [RESULTS_DIR]   # default build-bench/bench-results; writes ratios.md

Every ratio compares numbers measured in the same run on the same machine; absolute numbers are
listed after the ratios for context only (this is a shared, noisy box).
"""

import json
import pathlib
import platform
import os
import sys


def load(out, name):
    path = out / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def levels(doc):
    return {lvl["concurrency"]: lvl for lvl in doc["levels"]} if doc else {}


def fmt_ratio(a, b):
    return f"{a / b:.2f}" if a and b else "n/a"


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else 0


def transport_rows(transport):
    """inferd ÷ nginx with wrk on the tiny model, and the server overhead at one connection:
    inferd p50 − nginx p50 − ONNX Runtime's own p50. inferd counts with the median of the
    alternating repeats; nginx, the limit, with its best run (on a shared box a limit is what
    the reference reaches when nothing disturbs it), so the ratio errs low, not high."""
    rows = []
    if not transport:
        return rows
    ort_p50 = transport["ort_raw"]["levels"][0]["p50_us"]
    for encoding in ("json", "binary"):
        for c in (64, 1):
            runs = transport.get(f"{encoding}_c{c}")
            if not runs:
                continue
            inferd = median([r["rps"] for r in runs["inferd"]])
            nginx = max(r["rps"] for r in runs["nginx"])
            rows.append((f"inferd ÷ nginx, `tiny`, HTTP {encoding}, {c} connection(s), wrk "
                         "(throughput)", fmt_ratio(inferd, nginx)))
            if c == 1:
                overhead = (median([r["p50_us"] for r in runs["inferd"]]) -
                            min(r["p50_us"] for r in runs["nginx"]) - ort_p50)
                rows.append((f"server overhead at 1 connection, `tiny`, HTTP {encoding} "
                             "(inferd p50 − nginx p50 − ORT p50, µs)", f"{overhead:.0f}"))
            if runs.get("baseline"):
                # Before/after from one run: both medians of the same alternating repeats.
                rows.append((f"inferd ÷ baseline build, `tiny`, HTTP {encoding}, {c} "
                             "connection(s), wrk (throughput)",
                             fmt_ratio(inferd, median([r["rps"] for r in runs["baseline"]]))))
    return rows


def machine():
    model = "unknown"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores, {model}, {platform.system()} {platform.release()}"


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else
                       pathlib.Path(__file__).resolve().parents[1] / "build-bench" /
                       "bench-results")
    ort = load(out, "ort_raw")
    ort_by_batch = {lvl["batch"]: lvl for lvl in ort["levels"]} if ort else {}
    simple, nginx = levels(load(out, "inferd_simple_json")), levels(load(out, "nginx_simple_json"))
    mlp = {enc: levels(load(out, f"inferd_mlp_{enc}")) for enc in ("json", "binary", "grpc")}
    b64 = levels(load(out, "inferd_mlp_binary_b64"))
    node = levels(load(out, "node_mlp_json"))
    wrk = (load(out, "wrk_nginx") or {}).get("rps", {})
    startup = load(out, "startup") or {}
    decode = load(out, "json_decode")
    transport = load(out, "transport") or {}
    allocs = load(out, "allocs") or {}

    rows = []
    rows += transport_rows(transport)
    for c in sorted(simple):
        rows.append((f"inferd ÷ nginx, `simple`, HTTP JSON, concurrency {c} (throughput)",
                     fmt_ratio(simple[c]["throughput_rps"],
                               nginx.get(c, {}).get("throughput_rps"))))
    for c in sorted(nginx):
        rows.append((f"`inferd bench` ÷ wrk against nginx, {c} connections (generator check)",
                     fmt_ratio(nginx[c]["throughput_rps"], wrk.get(str(c)))))
    if ort_by_batch:
        ort_b1 = ort_by_batch[1]["inferences_per_s"]
        best_ort = max(ort_by_batch.values(), key=lambda lvl: lvl["inferences_per_s"])
        best_b1 = max((lvl["throughput_rps"] for enc in mlp.values() for lvl in enc.values()),
                      default=0)
        rows.append(("inferd ÷ raw ORT, `mlp`, batch 1 (best inferd level ÷ in-process Run)",
                     fmt_ratio(best_b1, ort_b1)))
        best_b64 = max((lvl["throughput_rps"] * 64 for lvl in b64.values()), default=0)
        rows.append((f"inferd ÷ raw ORT, `mlp`, best batch (inferd batch 64 ÷ ORT batch "
                     f"{best_ort['batch']}), inferences/s", fmt_ratio(best_b64,
                                                                     best_ort["inferences_per_s"])))
        for enc, lv in mlp.items():
            if 1 in lv:
                added = lv[1]["latency_us"]["p50"] - ort_by_batch[1]["p50_us"]
                rows.append((f"added p50 latency at concurrency 1, `mlp`, {enc} (µs over raw ORT)",
                             f"{added:.0f}"))
    for c in sorted(node):
        rows.append((f"inferd ÷ Node.js + onnxruntime-node, `mlp`, HTTP JSON, concurrency {c}",
                     fmt_ratio(mlp["json"].get(c, {}).get("throughput_rps"),
                               node[c]["throughput_rps"])))
    for c in sorted(mlp["grpc"]):
        rows.append((f"gRPC ÷ HTTP binary, `mlp`, concurrency {c} (same client, `inferd bench`)",
                     fmt_ratio(mlp["grpc"][c]["throughput_rps"],
                               mlp["binary"].get(c, {}).get("throughput_rps"))))
    for c in sorted(mlp["grpc"]):
        rows.append((f"gRPC ÷ HTTP JSON, `mlp`, concurrency {c}",
                     fmt_ratio(mlp["grpc"][c]["throughput_rps"],
                               mlp["json"].get(c, {}).get("throughput_rps"))))
    if startup:
        rows.append(("cold start, exec → first successful `mlp` response (ms, median of 3)",
                     f"{startup['cold_start_ms']:.0f}"))
        rows.append(("RSS with no model (MiB)", f"{startup['rss_empty_kib'] / 1024:.1f}"))
        rows.append(("RSS serving `mlp` after 2000 requests (MiB)",
                     f"{startup['rss_mlp_kib'] / 1024:.1f}"))
    if decode:
        for b in decode["benchmarks"]:
            what = "JSON" if "Json" in b["name"] else "binary extension (borrowed, for contrast)"
            rows.append((f"decode of a 1 MB FP32 tensor, {what} (MB/s of request body)",
                         f"{b['bytes_per_second'] / 1e6:,.0f}"))

    for name in ("http_binary", "http_json", "grpc"):
        if name in allocs:
            rows.append((f"heap allocations per request, `tiny`, {name.replace('_', ' ')} "
                         "(server process, engine included)",
                         f"{allocs[name]['per_request']:.1f}"))

    md = [f"Machine: {machine()}", "", "| measure | value |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in rows]
    md += ["", "Absolute numbers of the same run (requests/s; p50/p99 in ms):", "",
           "| scenario | concurrency | req/s | p50 | p99 | server infer µs | errors |",
           "|---|---|---|---|---|---|---|"]
    named = {"inferd simple JSON": simple, "nginx (same client)": nginx,
             "inferd mlp JSON": mlp["json"], "inferd mlp binary": mlp["binary"],
             "inferd mlp gRPC": mlp["grpc"], "inferd mlp binary, batch 64": b64,
             "Node.js mlp JSON": node}
    for name, lv in named.items():
        for c, lvl in sorted(lv.items()):
            srv = lvl.get("server_us") or {}
            infer = f"{srv['compute_infer']:.1f}" if srv else "-"
            md.append(f"| {name} | {c} | {lvl['throughput_rps']:.0f} | "
                      f"{lvl['latency_us']['p50'] / 1000:.3f} | "
                      f"{lvl['latency_us']['p99'] / 1000:.3f} | {infer} | {lvl['errors']} |")
    for batch, lvl in sorted(ort_by_batch.items()):
        md.append(f"| raw ORT mlp, batch {batch} | - | {lvl['runs_per_s']:.0f} runs/s, "
                  f"{lvl['inferences_per_s']:.0f} inf/s | {lvl['p50_us'] / 1000:.3f} | "
                  f"{lvl['p99_us'] / 1000:.3f} | - | - |")
    text = "\n".join(md) + "\n"
    (out / "ratios.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
