"""Engines are plugins loaded on first use (src/backends/backend_plugin.h): a server maps only
the engines its models need — none with no model, ONNX Runtime alone for ONNX models, never
libtorch unless a TorchScript model loads — and a missing plugin is a clear load error for the
models that need it, not a failed start."""

import shutil

import requests

from conftest import start_server, stop_server

TIMEOUT_S = 20


def mapped_libraries(srv):
    maps = open(f"/proc/{srv.proc.pid}/maps").read()
    return {line.split()[-1].rsplit("/", 1)[-1] for line in maps.splitlines()
            if line.count(" ") >= 5 and "/" in line}


def test_a_server_without_models_maps_no_engine(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    srv = start_server(empty, tmp_path)
    try:
        libs = mapped_libraries(srv)
        assert not any(lib.startswith("libinferd_backend_") for lib in libs), libs
        assert not any(lib.startswith("libonnxruntime") for lib in libs), libs
        assert not any(lib.startswith("libtorch") for lib in libs), libs
    finally:
        stop_server(srv)


def test_onnx_models_load_only_the_onnx_runtime_plugin(model_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(model_repo / "simple", repo / "simple")
    srv = start_server(repo, tmp_path)
    try:
        libs = mapped_libraries(srv)
        assert "libinferd_backend_onnxruntime.so" in libs, libs
        assert not any(lib.startswith("libtorch") for lib in libs), libs
        assert "libinferd_backend_pytorch.so" not in libs, libs
    finally:
        stop_server(srv)


def test_a_missing_plugin_fails_the_models_that_need_it_and_names_the_file(model_repo, tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(model_repo / "simple", repo / "simple")
    plugins = tmp_path / "no-plugins"
    plugins.mkdir()
    srv = start_server(repo, tmp_path, ["--backend-directory", str(plugins)])
    try:
        assert requests.get(srv.base_url + "/v2/health/ready", timeout=TIMEOUT_S).status_code == 200
        index = requests.post(srv.base_url + "/v2/repository/index", timeout=TIMEOUT_S).json()
        simple = [e for e in index if e["name"] == "simple"]
        assert simple and simple[0]["state"] == "UNAVAILABLE", index
        assert str(plugins / "libinferd_backend_onnxruntime.so") in simple[0]["reason"], simple
    finally:
        stop_server(srv)
