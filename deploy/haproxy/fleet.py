#!/usr/bin/python3
"""N inferd replicas on loopback behind one HAProxy (haproxy.cfg.in), on one machine.

As a command it starts the fleet and keeps it up until Ctrl-C; SIGHUP restarts the replicas one
at a time (SIGTERM drain, start, wait until HAProxy sees it up again):

    deploy/haproxy/fleet.py --replicas 3 --model-repository examples/models \\
        --http-port 8000 --grpc-port 8001

The integration tests (tests/integration/test_haproxy.py) import Fleet and drive it under load.
Only the Python standard library is used.
"""

import argparse
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
TEMPLATE = HERE / "haproxy.cfg.in"
DEFAULT_INFERD = HERE.parents[1] / "build" / "apps" / "inferd" / "inferd"
READY_TIMEOUT_S = 60
# Longer than HAProxy needs to see a replica go not-ready (one failed check, 500 ms apart), with
# a margin for a loaded machine (sanitizer builds in CI).
DRAIN_GRACE_S = 2


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def http_status(url, timeout=2):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def render_config(replicas, bind, http_port, grpc_port, stats_socket):
    """The HAProxy configuration for `replicas`: a list of (name, http_port, grpc_port)."""
    http = [f"    server {n} 127.0.0.1:{h} check" for n, h, _ in replicas]
    grpc = [f"    server {n} 127.0.0.1:{g} proto h2 check port {h} check-proto h1"
            for n, h, g in replicas]
    text = TEMPLATE.read_text()
    for key, value in {"BIND": bind, "HTTP_PORT": str(http_port), "GRPC_PORT": str(grpc_port),
                       "STATS_SOCKET": str(stats_socket), "HTTP_SERVERS": "\n".join(http),
                       "GRPC_SERVERS": "\n".join(grpc)}.items():
        text = text.replace(f"@{key}@", value)
    return text


class Replica:
    """One `inferd serve` process with fixed ports, restartable on the same ports."""

    def __init__(self, name, inferd, args, workdir):
        self.name = name
        self.inferd = inferd
        self.args = list(args)
        self.http_port = free_port()
        self.grpc_port = free_port()
        self.log_path = pathlib.Path(workdir) / f"{name}.log"
        self.proc = None

    def start(self):
        cmd = [str(self.inferd), "serve", "--host", "127.0.0.1",
               "--http-port", str(self.http_port), "--grpc-port", str(self.grpc_port),
               "--drain-grace-secs", str(DRAIN_GRACE_S), *self.args]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=READY_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.http_port}/v2/health/ready"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}; "
                                   f"see {self.log_path}")
            if http_status(url) == 200:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready within {timeout}s; see {self.log_path}")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Sends `sig` and waits for the exit; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


class Fleet:
    """Replicas plus HAProxy; `start` returns once HAProxy reports every replica up."""

    def __init__(self, model_repository, replicas=3, http_port=0, grpc_port=0,
                 bind="127.0.0.1", inferd=None, inferd_args=(), workdir=None, haproxy="haproxy"):
        self.workdir = pathlib.Path(workdir or tempfile.mkdtemp(prefix="inferd-fleet-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        inferd = inferd or os.environ.get("INFERD_BIN", str(DEFAULT_INFERD))
        args = ["--model-repository", str(model_repository), *inferd_args]
        self.replicas = [Replica(f"r{i}", inferd, args, self.workdir) for i in range(replicas)]
        self.bind = bind
        self.http_port = http_port or free_port()
        self.grpc_port = grpc_port or free_port()
        self.stats_socket = self.workdir / "haproxy.sock"
        self.config_path = self.workdir / "haproxy.cfg"
        self.haproxy = haproxy
        self.haproxy_proc = None

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def grpc_target(self):
        return f"127.0.0.1:{self.grpc_port}"

    def start(self):
        for r in self.replicas:
            r.start()
        for r in self.replicas:
            r.wait_ready()
        self.config_path.write_text(render_config(
            [(r.name, r.http_port, r.grpc_port) for r in self.replicas], self.bind,
            self.http_port, self.grpc_port, self.stats_socket))
        check = subprocess.run([self.haproxy, "-c", "-q", "-f", str(self.config_path)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy rejected {self.config_path}:\n{check.stderr}")
        log = open(self.workdir / "haproxy.log", "ab")
        self.haproxy_proc = subprocess.Popen([self.haproxy, "-db", "-f", str(self.config_path)],
                                             stdout=log, stderr=subprocess.STDOUT)
        log.close()
        for r in self.replicas:
            self.wait_backend_state(r.name, "UP")

    def server_states(self):
        """{(backend, server): status} from HAProxy's stats socket ("UP", "DOWN", ...)."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(self.stats_socket))
            s.sendall(b"show stat\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        pxname, svname, status = (header.index(k) for k in ("pxname", "svname", "status"))
        states = {}
        for line in lines[1:]:
            f = line.split(",")
            if len(f) > status and f[svname] not in ("FRONTEND", "BACKEND"):
                states[(f[pxname], f[svname])] = f[status]
        return states

    def wait_backend_state(self, name, want, timeout=READY_TIMEOUT_S):
        """Waits until `name` has status `want` in both backends (HTTP and gRPC)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.haproxy_proc.poll() is not None:
                raise RuntimeError(f"haproxy exited; see {self.workdir / 'haproxy.log'}")
            try:
                states = self.server_states()
                if all(v.startswith(want) for (b, s), v in states.items() if s == name):
                    return
            except OSError:
                pass  # the stats socket is not there yet
            time.sleep(0.05)
        raise RuntimeError(f"HAProxy never saw {name} {want} within {timeout}s")

    def restart(self, replica):
        """SIGTERM drain, then the same ports again; returns the drained process' exit code."""
        code = replica.stop(signal.SIGTERM)
        replica.start()
        replica.wait_ready()
        self.wait_backend_state(replica.name, "UP")
        return code

    def rolling_restart(self):
        return [self.restart(r) for r in self.replicas]

    def stop(self):
        for r in self.replicas:
            r.stop(signal.SIGTERM)
        if self.haproxy_proc is not None and self.haproxy_proc.poll() is None:
            self.haproxy_proc.terminate()
            self.haproxy_proc.wait(timeout=10)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--replicas", type=int, default=3)
    p.add_argument("--model-repository", required=True)
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--bind", default="127.0.0.1", help="address HAProxy listens on")
    p.add_argument("--inferd", help="inferd binary (default $INFERD_BIN or build/apps/inferd)")
    p.add_argument("--workdir", help="logs, haproxy.cfg and the stats socket (default: a tmpdir)")
    p.add_argument("inferd_args", nargs="*", help="more `inferd serve` flags, after --")
    a = p.parse_args()
    if a.replicas < 1:
        p.error("--replicas must be at least 1")
    fleet = Fleet(a.model_repository, a.replicas, a.http_port, a.grpc_port, a.bind, a.inferd,
                  a.inferd_args, a.workdir)
    restart, stop = [], []
    signal.signal(signal.SIGHUP, lambda *_: restart.append(True))
    # Explicit handlers: a background job's inherited SIG_IGN for SIGINT would otherwise stay.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.append(True))
    try:
        fleet.start()
        print(f"HAProxy: HTTP {fleet.http_url}, gRPC {fleet.grpc_target}; replicas "
              + ", ".join(f"{r.name} :{r.http_port}/:{r.grpc_port}" for r in fleet.replicas)
              + f"; logs in {fleet.workdir}; SIGHUP = rolling restart, Ctrl-C or SIGTERM = stop",
              flush=True)
        while not stop:
            if restart:
                restart.clear()
                print("rolling restart: exit codes", fleet.rolling_restart(), flush=True)
            time.sleep(0.2)
    except RuntimeError as e:
        print(f"fleet: {e}", file=sys.stderr)
        return 1
    finally:
        fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
