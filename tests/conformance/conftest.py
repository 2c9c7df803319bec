"""The conformance suite's fixtures: one private Orthanc per session (or a skip with the reason), emptied per test."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orthanc  # noqa: E402  (the suite's own launcher, beside this file)

_SKIPPED: dict[str, int] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.conformance)


@pytest.fixture(scope="session")
def orthanc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[orthanc.Server]:
    """A running Orthanc for the whole session; every conformance test is skipped with the reason if it cannot run."""
    try:
        server = orthanc.start(tmp_path_factory.mktemp("orthanc"))
    except orthanc.Unavailable as reason:
        pytest.skip(f"Orthanc unavailable: {reason}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(orthanc_server: orthanc.Server) -> orthanc.Server:
    """The session's Orthanc with nothing stored (each case uploads its own files)."""
    for patient in orthanc_server.request("GET", "/patients").json():
        orthanc_server.request("DELETE", f"/patients/{patient}")
    return orthanc_server


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "conformance" in report.keywords and isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        _SKIPPED[reason] = _SKIPPED.get(reason, 0) + 1


def pytest_terminal_summary(terminalreporter) -> None:
    """Say why conformance tests were skipped even without -rs: a skipped suite must never look passed."""
    for reason, count in sorted(_SKIPPED.items()):
        terminalreporter.write_line(f"conformance: {count} test(s) skipped: {reason}", yellow=True)
