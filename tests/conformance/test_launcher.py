"""The suite's own Orthanc launcher: a scratch folder in, an isolated server that answers and then stops out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

import orthanc

pytestmark = pytest.mark.conformance


def test_server_answers_and_is_orthanc_1_10(server):
    system = server.request("GET", "/system").json()
    assert system["Name"] == "dcmrules-conformance" and system["Version"].startswith("1.")
    assert server.request("GET", "/patients").json() == []  # each test starts empty


def test_isolated_server_is_not_reachable_from_outside(server):
    if not server.isolated:
        pytest.skip("unshare is not permitted here: the server runs in the host namespace with "
                    "RemoteAccessAllowed false")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{orthanc.NAMESPACE_PORT}/system", timeout=2) as answer:
            name = json.loads(answer.read()).get("Name")
    except (urllib.error.URLError, OSError, ValueError):
        return
    assert name != "dcmrules-conformance", "the suite's Orthanc is reachable from the host namespace"


def test_stop_ends_that_process(server, tmp_path):
    second = orthanc.start(tmp_path / "second")
    try:
        assert second.request("GET", "/system").status == 200
    finally:
        second.stop()
    assert second.process.returncode is not None and second.client.returncode is not None
