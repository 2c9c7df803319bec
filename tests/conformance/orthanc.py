"""A private Orthanc for the conformance suite: a scratch folder in, a running server and its HTTP client out.

    server = start(Path("/tmp/x"))        # raises Unavailable(reason) when Orthanc cannot run here
    server.request("POST", "/instances", data)   # -> Response(status, body)
    server.stop()                          # that PID only: TERM, then KILL after 20 s

Orthanc 1.10.1 cannot bind to loopback only, so it runs inside a private network namespace
(`unshare -n`, only `lo` up) and the HTTP client is a small Python process entered into that namespace
(`nsenter -t PID -n`); requests and answers cross its stdin/stdout as JSON lines. Where `unshare` is not
permitted, Orthanc runs in the host namespace on a free loopback port with RemoteAccessAllowed false.
The DICOM server, plugins, Lua, the explorer and WebDAV are off; storage lives in the scratch folder.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BINARY = Path(os.environ.get("ORTHANC_BIN", "/usr/sbin/Orthanc"))
NAMESPACE_PORT = 8042
START_TIMEOUT = 60.0
REQUEST_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0

# Brings `lo` up inside the fresh namespace (SIOCSIFFLAGS, IFF_UP), then becomes Orthanc (same PID).
_LO_UP_THEN_EXEC = """
import fcntl, os, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fcntl.ioctl(s, 0x8914, struct.pack("16sH14x", b"lo", 0x1))
s.close()
os.execv(sys.argv[1], sys.argv[1:])
"""

# The client inside Orthanc's namespace: one JSON request per stdin line, one JSON answer per stdout line.
_CLIENT = """
import base64, json, sys, urllib.error, urllib.request
base = sys.argv[1]
for line in sys.stdin:
    req = json.loads(line)
    data = base64.b64decode(req["body"]) if req["body"] is not None else None
    r = urllib.request.Request(base + req["path"], data=data, method=req["method"])
    if data is not None:
        r.add_header("Content-Type", req["type"])
    try:
        with urllib.request.urlopen(r, timeout=req["timeout"]) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except Exception as error:
        status, body = 0, repr(error).encode()
    sys.stdout.write(json.dumps({"status": status, "body": base64.b64encode(body).decode()}) + "\\n")
    sys.stdout.flush()
"""


class Unavailable(Exception):
    """Orthanc cannot run here; the message says why (the suite reports it as the skip reason)."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def details(self) -> str:
        """Orthanc's error `Details` (or message) for a failed request, '' when it gave none."""
        try:
            answer = self.json()
        except ValueError:
            return ""
        return str(answer.get("Details") or "") if isinstance(answer, dict) else ""


class Server:
    """A running Orthanc (its Popen handle) and the client process that talks to it."""

    def __init__(self, process: subprocess.Popen, client: subprocess.Popen, folder: Path, isolated: bool):
        self.process, self.client, self.folder, self.isolated = process, client, folder, isolated
        self._pending = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    def request(self, method: str, path: str, body: bytes | str | dict | list | None = None,
                *, timeout: float = REQUEST_TIMEOUT) -> Response:
        """One HTTP request to Orthanc; a dict or list body is sent as JSON."""
        kind = "application/dicom" if isinstance(body, bytes) else "application/json"
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        line = json.dumps({"method": method, "path": path, "type": kind, "timeout": timeout,
                           "body": None if body is None else base64.b64encode(body).decode()})
        assert self.client.stdin is not None
        try:
            self.client.stdin.write((line + "\n").encode())
            self.client.stdin.flush()
        except BrokenPipeError:
            raise ConnectionError(f"the Orthanc client process exited ({self.log_tail()})") from None
        answer = json.loads(self._read_line(time.monotonic() + timeout + 5))
        if answer["status"] == 0:
            raise ConnectionError(f"{method} {path}: {base64.b64decode(answer['body']).decode()}")
        return Response(answer["status"], base64.b64decode(answer["body"]))

    def _read_line(self, deadline: float) -> str:
        assert self.client.stdout is not None
        fd = self.client.stdout.fileno()
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("Orthanc did not answer in time")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                raise ConnectionError(f"the Orthanc client process exited ({self.log_tail()})")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode()

    def log_tail(self, lines: int = 20) -> str:
        text = ""
        for name in ("stdout.log", "orthanc.log", "client.log"):
            path = self.folder / name
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the client, then Orthanc: TERM, KILL after STOP_TIMEOUT; these two PIDs only."""
        _end(self.client, 5.0)
        _end(self.process, STOP_TIMEOUT)


def start(folder: Path, *, binary: Path = BINARY) -> Server:
    """Start Orthanc with its storage under `folder` and wait until its REST API answers."""
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        raise Unavailable(f"Orthanc is not installed ({binary} missing; `apt-get install -y orthanc`)")
    isolated = _can_isolate()
    port = NAMESPACE_PORT if isolated else _free_port()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "storage").mkdir(exist_ok=True)
    config = folder / "orthanc.json"
    config.write_text(json.dumps(_config(folder, port), indent=2))
    command = [str(binary), f"--logfile={folder / 'orthanc.log'}", str(config)]
    if isolated:
        command = ["unshare", "-n", "--", sys.executable, "-c", _LO_UP_THEN_EXEC, *command]
    with open(folder / "stdout.log", "wb") as log:
        process = subprocess.Popen(command, cwd=folder, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    client = None
    try:
        client = _start_client(process.pid, port, isolated, folder)
        server = Server(process, client, folder, isolated)
        _wait_ready(server)
        return server
    except OSError as error:  # unshare/nsenter refused, or a binary that will not start
        _end_all(client, process)
        raise Unavailable(f"cannot start Orthanc: {error}") from None
    except BaseException:
        _end_all(client, process)
        raise


def _end_all(client: subprocess.Popen | None, process: subprocess.Popen) -> None:
    if client is not None:
        _end(client, 5.0)
    _end(process, STOP_TIMEOUT)


def _config(folder: Path, port: int) -> dict[str, Any]:
    return {
        "Name": "dcmrules-conformance",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "StorageCompression": False,
        "Plugins": [],
        "LuaScripts": [],
        "HttpServerEnabled": True,
        "HttpPort": port,
        "HttpBindAddresses": ["127.0.0.1"],  # honoured from Orthanc 1.12.10 on
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "HttpDescribeErrors": True,
        "OrthancExplorerEnabled": False,
        "WebDavEnabled": False,
        "DicomServerEnabled": False,
        "DicomPort": port + 1,
        "SaveJobs": False,
        "ExecuteLuaEnabled": False,
        "RestApiWriteToFileSystemEnabled": False,
        "ConcurrentJobs": 2,
        "StableAge": 3600,
        "DicomScpTimeout": 1,
    }


def _can_isolate() -> bool:
    """True when Orthanc can get its own network namespace (ORTHANC_NETNS=0 forces the host namespace)."""
    if os.environ.get("ORTHANC_NETNS") == "0" or not (shutil.which("unshare") and shutil.which("nsenter")):
        return False
    try:
        return subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_client(pid: int, port: int, isolated: bool, folder: Path) -> subprocess.Popen:
    command = [sys.executable, "-u", "-c", _CLIENT, f"http://127.0.0.1:{port}"]
    if isolated:
        _wait_for_namespace(pid)
        command = ["nsenter", "-t", str(pid), "-n", "--", *command]
    with open(folder / "client.log", "wb") as log:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)


def _wait_for_namespace(pid: int) -> None:
    """Wait until the child has left our network namespace (unshare ran), so nsenter enters the right one."""
    ours = os.readlink("/proc/self/ns/net")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            if os.readlink(f"/proc/{pid}/ns/net") != ours and _comm(pid) == "Orthanc":
                return
        except OSError:
            raise Unavailable("Orthanc exited during start-up") from None
        time.sleep(0.05)
    raise Unavailable("Orthanc did not enter its network namespace within 60 s")


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise Unavailable(f"Orthanc exited during start-up: {server.log_tail()}")
        if server.client.poll() is not None:
            raise Unavailable(f"cannot reach Orthanc's network namespace: {server.log_tail()}")
        try:
            if server.request("GET", "/system", timeout=2).status == 200:
                return
        except (ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise Unavailable(f"Orthanc did not answer within {START_TIMEOUT:.0f} s: {server.log_tail()}")


def _comm(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()


def _end(process: subprocess.Popen, timeout: float) -> None:
    """TERM this one process, KILL it if it is still there after `timeout`; reap it."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
