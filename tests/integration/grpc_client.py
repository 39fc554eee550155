"""A real gRPC client for inferd's integration tests: Python stubs generated at test time from
the repository's own .proto files (src/grpc/grpc_service.proto, package `inference`, as Triton's
clients use it; src/grpc/health.proto; src/config/model_config.proto), plus helpers to build
ModelInferRequests from numpy arrays and to read ModelInferResponses back.

Stubs come from `python3 -m grpc_tools.protoc` when python3-grpc-tools is installed, else from
`protoc` with Debian's grpc_python_plugin (protobuf-compiler-grpc). They are generated once per
process into a temporary directory that is put on sys.path.
"""

import atexit
import importlib
import pathlib
import shutil
import subprocess
import sys
import tempfile
import types

import numpy as np

from kserve_v2 import NUMPY_TYPES, deserialize_bytes_tensor, tensor_bytes, to_bytes_elements

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SRC = REPO_ROOT / "src"
PROTOS = [SRC / "grpc" / "grpc_service.proto", SRC / "grpc" / "health.proto",
          SRC / "config" / "model_config.proto"]
GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"

# The typed InferTensorContents field of each datatype (FP16/BF16 have none: raw only).
CONTENTS_FIELD = {
    "BOOL": "bool_contents",
    "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents", "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}

_stubs = None


def _has_grpc_tools():
    try:
        importlib.import_module("grpc_tools.protoc")
        return True
    except ImportError:
        return False


def _generate(out_dir):
    # src/grpc first, so grpc_service.proto becomes the top-level module grpc_service_pb2 (a
    # "grpc/" prefix would collide with the grpcio package); src/ resolves the config import.
    includes = ["-I", str(SRC / "grpc"), "-I", str(SRC)]
    outputs = [f"--python_out={out_dir}", f"--grpc_python_out={out_dir}"]
    files = [str(p) for p in PROTOS]
    if _has_grpc_tools():
        cmd = [sys.executable, "-m", "grpc_tools.protoc", *includes, *outputs, *files]
    else:
        protoc = shutil.which("protoc")
        if protoc is None or not pathlib.Path(GRPC_PYTHON_PLUGIN).exists():
            raise RuntimeError("need python3-grpc-tools, or protoc and grpc_python_plugin "
                               "(protobuf-compiler, protobuf-compiler-grpc) to generate stubs")
        cmd = [protoc, f"--plugin=protoc-gen-grpc_python={GRPC_PYTHON_PLUGIN}", *includes,
               *outputs, *files]
    subprocess.run(cmd, check=True, capture_output=True)
    # A regular package, so no other "config" on sys.path can shadow it.
    (pathlib.Path(out_dir) / "config" / "__init__.py").touch()


def stubs():
    """The generated modules: .pb (messages), .rpc (GRPCInferenceServiceStub), .health,
    .health_rpc, .config."""
    global _stubs
    if _stubs is None:
        out_dir = tempfile.mkdtemp(prefix="inferd-grpc-stubs-")
        atexit.register(shutil.rmtree, out_dir, True)
        _generate(out_dir)
        sys.path.insert(0, out_dir)
        _stubs = types.SimpleNamespace(
            pb=importlib.import_module("grpc_service_pb2"),
            rpc=importlib.import_module("grpc_service_pb2_grpc"),
            health=importlib.import_module("health_pb2"),
            health_rpc=importlib.import_module("health_pb2_grpc"),
            config=importlib.import_module("config.model_config_pb2"))
    return _stubs


def make_infer_request(model, inputs, raw=True, outputs=None, request_id="", version="",
                       parameters=None):
    """inputs: [(name, datatype, ndarray)]. raw: raw_input_contents, else typed contents.
    outputs: names to request (None: all). parameters: {key: bool|int|float|str}."""
    pb = stubs().pb
    req = pb.ModelInferRequest(model_name=model, model_version=version, id=request_id)
    for name, datatype, arr in inputs:
        tensor = req.inputs.add(name=name, datatype=datatype, shape=list(np.shape(arr)))
        if raw:
            req.raw_input_contents.append(tensor_bytes(arr, datatype))
        else:
            set_typed_contents(tensor.contents, datatype, arr)
    for name in outputs or []:
        req.outputs.add(name=name)
    for key, value in (parameters or {}).items():
        set_parameter(req.parameters[key], value)
    return req


def set_typed_contents(contents, datatype, arr):
    field = CONTENTS_FIELD[datatype]
    if datatype == "BYTES":
        values = list(to_bytes_elements(arr).flatten())
    else:
        values = np.asarray(arr, dtype=NUMPY_TYPES[datatype]).flatten().tolist()
    getattr(contents, field).extend(values)


def set_parameter(param, value):
    if isinstance(value, bool):
        param.bool_param = value
    elif isinstance(value, int):
        param.int64_param = value
    elif isinstance(value, float):
        param.double_param = value
    else:
        param.string_param = value


def parse_infer_response(resp):
    """ModelInferResponse -> {output name: ndarray}, from raw_output_contents or typed contents."""
    outputs = {}
    raw = list(resp.raw_output_contents)
    assert not raw or len(raw) == len(resp.outputs), \
        f"{len(raw)} raw_output_contents for {len(resp.outputs)} outputs"
    for i, out in enumerate(resp.outputs):
        datatype, shape = out.datatype, list(out.shape)
        if raw:
            buf = raw[i]
            if datatype == "BYTES":
                arr = deserialize_bytes_tensor(buf, shape)
            elif datatype == "BOOL":
                arr = np.frombuffer(buf, dtype=np.uint8).astype(np.bool_).reshape(shape)
            elif datatype == "BF16":
                bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
                arr = bits.view(np.float32).reshape(shape)
            else:
                dt = np.dtype(NUMPY_TYPES[datatype]).newbyteorder("<")
                arr = np.frombuffer(buf, dtype=dt).astype(NUMPY_TYPES[datatype]).reshape(shape)
        else:
            values = list(getattr(out.contents, CONTENTS_FIELD[datatype]))
            if datatype == "BYTES":
                arr = np.empty(len(values), dtype=np.object_)
                arr[:] = values
                arr = arr.reshape(shape)
            else:
                arr = np.array(values, dtype=NUMPY_TYPES[datatype]).reshape(shape)
        outputs[out.name] = arr
    return outputs
