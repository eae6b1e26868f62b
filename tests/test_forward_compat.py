"""A client that survives a newer server (issue 19, findings 4 and 5, "What to build" 2).

The vendor cloud changes before the SDK does. These tests point the client at a server
written for them, :class:`NewerServer`: it answers from the emulator, then changes each
answer as a newer server would (a job state the client does not know, a device that
lists an operation or a control-flow name the client does not know, fields it does not
know everywhere, a newer API version, a warning, a 426). The retired-device tests run
the emulator itself on a device catalog that loses a device between two starts.
"""

from __future__ import annotations

import json
import logging
import pickle
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
import responses
from qiskit import QuantumCircuit
from qiskit.circuit import Gate
from qiskit.providers import JobStatus
from qiskit.transpiler import generate_preset_pass_manager

from qiskit_vendor_provider import Session, VendorProvider
from qiskit_vendor_provider.api.versions import (
    API_VERSION,
    API_VERSION_HEADER,
    CLIENT_VERSION_HEADER,
    SERVER_VERSION_HEADER,
    WARNING_HEADER,
)
from qiskit_vendor_provider.emulator import Emulator, EmulatorConfig, InProcessTransport, create_app
from qiskit_vendor_provider.emulator.catalog import CatalogError, builtin_device_dir, load_spec
from qiskit_vendor_provider.emulator.transport import dispatch
from qiskit_vendor_provider.errors import (
    CircuitValidationError,
    DeviceRetiredError,
    UnknownJobStateError,
    VendorCompatibilityWarning,
    VendorJobTimeoutError,
    VendorUpgradeRequiredError,
    VendorValidationError,
    is_refusal,
)
from tests.conftest import MOCK_URL, MockedApi
from tests.helpers import bell

URL = "https://newer.vendor.test"
TOKEN = "newer-server-token-0123456789"
POLL_BUDGET = 60
"""Status requests a newer server answers for one job before it calls the client stuck."""


def _problem(status: int, detail: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": "about:blank", "title": "Problem", "status": status, "detail": detail}
    return status, {"content-type": "application/problem+json"}, json.dumps(body).encode()


def _with_unknown_fields(value: Any, key: str = "") -> Any:
    """``value`` with a field this client has never heard of in every object of the API.

    Maps whose keys are data (counts, metadata, parameter terms) are left alone.
    """
    if isinstance(value, list):
        return [_with_unknown_fields(item, key) for item in value]
    if not isinstance(value, dict) or key in ("counts", "metadata", "terms"):
        return value
    changed = {k: _with_unknown_fields(v, k) for k, v in value.items()}
    changed["x_added_in_api_9"] = {"nested": [1, "two", None], "flag": True}
    return changed


class NewerServer:
    """The vendor API as a newer server answers it: the emulator's answers, changed.

    Attributes:
        states: Job id → (state, ended): the state the server reports instead, and
            whether the job has ended (an ``ended_at``).
        gone: Jobs whose result the server no longer has (410).
        renamed_done: Jobs the server reports DONE under another name (result included).
        natives: Device → operations added to its native operations (with calibrations).
        control_flow: Device → control-flow names added to it.
        unknown_fields: Add unknown fields to every object of every answer.
        api_version: The ``X-Vendor-API-Version`` to answer with (None: the emulator's).
        warning: An ``X-Vendor-Warning`` to add to every answer.
        minimum_client: Answer 426 to a client whose API version is below this.
        polls: Status requests seen per job.
    """

    def __init__(self, emulator: Emulator, mock: responses.RequestsMock) -> None:
        self.app = create_app(emulator)
        self.states: dict[str, tuple[str, bool]] = {}
        self.gone: set[str] = set()
        self.renamed_done: dict[str, str] = {}
        self.natives: dict[str, list[dict[str, Any]]] = {}
        self.control_flow: dict[str, list[str]] = {}
        self.unknown_fields = False
        self.api_version: str | None = None
        self.warning: str | None = None
        self.minimum_client: tuple[int, int] | None = None
        self.polls: dict[str, int] = {}
        for method in ("GET", "POST"):
            mock.add_callback(method, re.compile(re.escape(URL) + r"/.*"), self._answer)

    def _answer(self, request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(request.url or "")
        path = parts.path
        declared = request.headers.get(API_VERSION_HEADER) or "1.0"
        if self.minimum_client is not None and tuple(map(int, declared.split("."))) < (
            self.minimum_client
        ):
            return _problem(426, "this server needs a client of API 9.0; upgrade")
        query = parse_qsl(parts.query)
        unknown = [v for k, v in query if k == "status" and v not in _V1_STATES]
        url = request.url or ""
        if unknown:
            # Filtered here, by this server's own states: the emulator has none of them.
            kept = [(k, v) for k, v in query if k not in ("status", "limit", "offset")]
            url = parts._replace(query=urlencode([*kept, ("limit", "100")])).geturl()
        match = re.fullmatch(r"/v1/jobs/([0-9a-f]{32})(/result)?", path)
        job_id = match.group(1) if match else None
        if job_id is not None and match and not match.group(2):
            self.polls[job_id] = self.polls.get(job_id, 0) + 1
            watched = job_id in self.states or job_id in self.renamed_done
            if watched and self.polls[job_id] > POLL_BUDGET:
                return _problem(400, f"job {job_id} was polled {POLL_BUDGET} times: stuck")
        if job_id is not None and match and match.group(2) and job_id in self.gone:
            return _problem(410, f"job {job_id} expired: its result was deleted")
        body = request.body or b""
        status, header_list, content = dispatch(
            self.app,
            request.method or "GET",
            url,
            dict(request.headers),
            body.encode() if isinstance(body, str) else body,
        )
        headers = {k.lower(): v for k, v in header_list if k.lower() != "content-length"}
        if self.api_version is not None:
            headers[API_VERSION_HEADER.lower()] = self.api_version
        if self.warning is not None:
            headers[WARNING_HEADER.lower()] = self.warning
        if status >= 300 or not content:
            return status, headers, content
        data = self._rewrite(path, json.loads(content))
        if unknown:
            data["jobs"] = [job for job in data["jobs"] if job["status"] in unknown]
            data["next_offset"] = None
        if self.unknown_fields:
            data = _with_unknown_fields(data)
        return status, headers, json.dumps(data).encode()

    def _rewrite(self, path: str, data: Any) -> Any:
        device = re.fullmatch(r"/v1/devices/([^/]+)", path)
        if device is not None:
            name = device.group(1)
            for op in self.natives.get(name, []):
                data["native_operations"].append(op)
                if data.get("calibration") and op.get("qubits"):
                    data["calibration"]["gates"].extend(
                        {"name": op["name"], "qubits": q, "error": 0.01, "duration": 4e-8}
                        for q in op["qubits"]
                    )
            data["control_flow"] = [*data.get("control_flow", []), *self.control_flow.get(name, [])]
        for job in data.get("jobs", []) if path == "/v1/jobs" else [data]:
            if isinstance(job, dict) and "job_id" in job:
                self._rewrite_job(job)
        return data

    def _rewrite_job(self, job: dict[str, Any]) -> None:
        job_id = job["job_id"]
        if job_id in self.states:
            state, ended = self.states[job_id]
            job["status"] = state
            if not ended:
                job["ended_at"] = None
        if job_id in self.renamed_done and job["status"] == "DONE":
            job["status"] = self.renamed_done[job_id]


_V1_STATES = {"QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED"}


@pytest.fixture
def newer(emulator: Emulator) -> Iterator[NewerServer]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield NewerServer(emulator, mock)


@pytest.fixture
def client_of_newer(newer: NewerServer) -> VendorProvider:
    return VendorProvider(url=URL, token=TOKEN, journal=False, poll_interval=(0.005, 0.05))


def _done_job(provider: VendorProvider) -> str:
    """The id of a finished Bell job on the ideal simulator."""
    job = provider.get_backend("ideal_simulator").run(bell(), shots=64, seed_simulator=7)
    job.result()
    return job.job_id()


# --------------------------------------------------------------------------- job states


def test_a_final_state_the_client_does_not_know_ends_the_wait_with_a_typed_error(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    job_id = _done_job(client_of_newer)
    newer.states[job_id] = ("EXPIRED", True)
    newer.gone.add(job_id)

    job = client_of_newer.retrieve_job(job_id)
    # Without a timeout: the wait ends (before, it polled for ever; the server here
    # refuses a client that polls a finished job more than POLL_BUDGET times).
    with pytest.raises(UnknownJobStateError, match=r"ended in state 'EXPIRED'.*expired"):
        job.result()
    assert job.status() is JobStatus.ERROR
    assert job.server_status() == "EXPIRED"
    message = job.error_message()
    assert message is not None and "EXPIRED" in message
    assert newer.polls[job_id] < POLL_BUDGET


def test_an_unknown_state_that_has_not_ended_is_in_progress_and_named_on_timeout(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    job_id = _done_job(client_of_newer)
    newer.states[job_id] = ("COMPILING", False)
    job = client_of_newer.retrieve_job(job_id)
    assert job.status() is JobStatus.RUNNING
    with pytest.raises(VendorJobTimeoutError) as caught:
        job.result(timeout=0.2)
    text = str(caught.value)
    assert "'COMPILING'" in text and "does not know" in text
    assert "still RUNNING" not in text
    # Once the server ends it (in a state the client knows), the same job finishes.
    del newer.states[job_id]
    assert job.result().get_counts()


def test_an_unknown_final_state_with_a_result_gives_the_result(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    job_id = _done_job(client_of_newer)
    newer.renamed_done[job_id] = "COMPLETED"
    job = client_of_newer.retrieve_job(job_id)
    counts = job.result().get_counts()
    assert set(counts) <= {"00", "11"} and sum(counts.values()) == 64
    assert job.server_status() == "COMPLETED"


def test_jobs_can_be_filtered_by_a_state_the_client_does_not_know(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    expired = _done_job(client_of_newer)
    _done_job(client_of_newer)
    newer.states[expired] = ("EXPIRED", True)

    found = client_of_newer.jobs(limit=None, status="expired")
    assert [job.job_id() for job in found] == [expired]
    assert found[0].status() is JobStatus.ERROR
    mixed = client_of_newer.jobs(limit=None, status=["EXPIRED", JobStatus.CANCELLED])
    assert [job.job_id() for job in mixed] == [expired]
    # A typo of a known state is still refused, before any request.
    with pytest.raises(Exception, match=r"status='DONEE' is not a job status\. Did you mean DONE"):
        client_of_newer.jobs(status="DONEE")


def test_a_server_without_that_state_refuses_it_naming_its_own(
    provider_session: VendorProvider,
) -> None:
    with pytest.raises(
        VendorValidationError, match=r"'EXPIRED' is not a job state of this server; its states"
    ):
        provider_session.jobs(status="EXPIRED")


# --------------------------------------------------------------------------- devices


def test_a_device_with_an_unknown_operation_still_lists_and_only_it_is_limited(
    newer: NewerServer,
    client_of_newer: VendorProvider,
    provider_session: VendorProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    newer.natives["superconducting_27q"] = [
        {"name": "fsim", "num_qubits": 2, "qubits": [[0, 1], [1, 0]]}
    ]
    with caplog.at_level(logging.WARNING, logger="qiskit_vendor_provider"):
        names = [backend.name for backend in client_of_newer.backends()]
    assert names == [backend.name for backend in provider_session.backends()]
    said = [r.getMessage() for r in caplog.records if "fsim" in r.getMessage()]
    assert len(said) == 1 and "'superconducting_27q'" in said[0] and "upgrade" in said[0].lower()

    device = client_of_newer.get_backend("superconducting_27q")
    assert "fsim" not in device.target.operation_names
    assert set(device.target.unknown_operations) == {"fsim"}
    # The other devices are exactly as the emulator describes them.
    for other in ("ideal_simulator", "trapped_ion_11q"):
        assert set(client_of_newer.get_backend(other).target.operation_names) == set(
            provider_session.get_backend(other).target.operation_names
        )

    # A circuit that needs fsim is refused by name, before anything is sent...
    circuit = QuantumCircuit(2, 2)
    circuit.append(Gate("fsim", 2, []), [0, 1])
    circuit.measure([0, 1], [0, 1])
    with pytest.raises(CircuitValidationError, match=r"lists operation 'fsim'.*upgrade"):
        device.run(circuit)
    # ...and every other circuit runs on the same device.
    isa = generate_preset_pass_manager(backend=device, optimization_level=1).run(bell())
    counts = device.run(isa, shots=200, seed_simulator=3).result().get_counts()
    assert sum(counts.values()) == 200


def test_a_device_with_an_unknown_control_flow_name_still_lists(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    newer.control_flow["ideal_simulator"] = ["box"]
    assert len(client_of_newer.backends()) == 3
    ideal = client_of_newer.get_backend("ideal_simulator")
    assert "box" not in ideal.target.operation_names
    assert "if_else" in ideal.target.operation_names

    boxed = QuantumCircuit(1, 1)
    with boxed.box():
        boxed.x(0)
    boxed.measure(0, 0)
    with pytest.raises(CircuitValidationError, match=r"lists operation 'box'"):
        ideal.run(boxed)

    dynamic = QuantumCircuit(1, 2)
    dynamic.x(0)
    dynamic.measure(0, 0)
    with dynamic.if_test((dynamic.clbits[0], 1)):
        dynamic.x(0)
    dynamic.measure(0, 1)
    assert ideal.run(dynamic, shots=20).result().get_counts() == {"01": 20}


def test_unknown_fields_in_every_answer_are_ignored(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    """Pins what main already did ("as today" in the issue), across every route used."""
    newer.unknown_fields = True
    assert len(client_of_newer.backends()) == 3
    backend = client_of_newer.get_backend("superconducting_27q")
    assert backend.properties() is not None and backend.status().operational
    job = client_of_newer.get_backend("ideal_simulator").run(bell(), shots=30, memory=True)
    result = job.result()
    assert sum(result.get_counts().values()) == 30 and len(result.get_memory()) == 30
    assert job.job_id() in [j.job_id() for j in client_of_newer.jobs(limit=5)]
    with Session(backend=client_of_newer.get_backend("ideal_simulator")) as session:
        assert session.status() in ("open", "active")
    assert session.session_id in [s.session_id for s in client_of_newer.sessions()]


def test_an_emulator_device_file_still_may_not_list_what_the_package_does_not_know(
    tmp_path: Path,
) -> None:
    """The client tolerates unknown names; the emulator's own catalog does not."""
    spec = json.loads((builtin_device_dir() / "ideal_simulator.json").read_text())
    spec["control_flow"] = [*spec["control_flow"], "box"]
    path = tmp_path / "ideal_simulator.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(CatalogError, match=r"'box': this package cannot send"):
        load_spec(path)


# --------------------------------------------------------------------------- retired devices


def _device_file(directory: Path, name: str) -> None:
    spec = json.loads((builtin_device_dir() / "ideal_simulator.json").read_text())
    spec["name"] = name
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.json").write_text(json.dumps(spec))


def _provider(emulator: Emulator, journal: Path | bool = False) -> VendorProvider:
    return VendorProvider(
        transport=InProcessTransport(create_app(emulator)),
        journal=journal,
        poll_interval=(0.005, 0.05),
    )


@pytest.fixture
def retired(tmp_path: Path) -> Iterator[tuple[Emulator, dict[str, str]]]:
    """An emulator that no longer serves ``legacy_sim``, and what was left on it.

    Before: a finished job and a closed session on ``legacy_sim``, and a job still
    queued there (submitted to a process that runs no jobs). Then the device's file
    is removed and the emulator started again on the same database.
    """
    before, after = tmp_path / "before", tmp_path / "after"
    for directory in (before, after):
        _device_file(directory, "current_sim")
    _device_file(before, "legacy_sim")
    database = tmp_path / "jobs.sqlite3"
    left: dict[str, str] = {}

    first = Emulator(EmulatorConfig(database=database, device_dirs=(before,))).start()
    try:
        legacy = _provider(first).get_backend("legacy_sim")
        with Session(backend=legacy) as session:
            job = session.run(bell(), shots=40, seed_simulator=5)
            job.result()
        left |= {"done": job.job_id(), "session": session.session_id}
    finally:
        first.stop()
    idle = Emulator(EmulatorConfig(database=database, device_dirs=(before,), workers=0)).start()
    try:
        journal = database.with_name("journal.sqlite3")
        queued = _provider(idle, journal).get_backend("legacy_sim").run(bell(), shots=40)
        assert queued.status() is JobStatus.QUEUED
        left["queued"] = queued.job_id()
    finally:
        idle.stop()

    later = Emulator(EmulatorConfig(database=database, device_dirs=(after,))).start()
    try:
        yield later, left
    finally:
        later.stop()


def test_a_retired_device_does_not_break_history(
    retired: tuple[Emulator, dict[str, str]],
) -> None:
    emulator, left = retired
    provider = _provider(emulator)
    assert [b.name for b in provider.backends() if b.name.endswith("_sim")] == ["current_sim"]

    listed = {job.job_id(): job for job in provider.jobs(limit=None)}
    assert {left["done"], left["queued"]} <= set(listed)
    done = provider.retrieve_job(left["done"])
    assert done.device_name == "legacy_sim" and repr(done).endswith("on legacy_sim>")
    with pytest.raises(DeviceRetiredError, match=r"'legacy_sim'.*no longer serves"):
        done.backend()
    result = done.result()
    assert sum(result.get_counts().values()) == 40 and result.backend_name == "legacy_sim"
    assert pickle.loads(pickle.dumps(done)).device_name == "legacy_sim"
    assert [j.job_id() for j in provider.jobs(backend_name="legacy_sim", limit=None)] == [
        left["queued"],
        left["done"],
    ]

    sessions = {s.session_id: s for s in provider.sessions()}
    session = sessions[left["session"]]
    assert session.backend() == "legacy_sim" and session.status() == "closed"
    assert [j.job_id() for j in session.jobs()] == [left["done"]]
    with pytest.raises(DeviceRetiredError):
        session.run(bell())
    assert provider.session(left["session"]).backend() == "legacy_sim"


def test_the_server_fails_the_queued_jobs_of_a_withdrawn_device(
    retired: tuple[Emulator, dict[str, str]],
) -> None:
    emulator, left = retired
    job = _provider(emulator).retrieve_job(left["queued"])
    assert job.status() is JobStatus.ERROR
    message = job.error_message()
    assert message is not None and message.startswith("device withdrawn")
    with pytest.raises(Exception, match="device withdrawn"):
        job.result()


def test_resume_follows_a_journalled_job_of_a_withdrawn_device(
    retired: tuple[Emulator, dict[str, str]], tmp_path: Path
) -> None:
    emulator, left = retired
    provider = _provider(emulator, tmp_path / "journal.sqlite3")
    report = provider.resume()
    assert [(o.outcome, o.device) for o in report.outcomes] == [("already there", "legacy_sim")]
    assert [job.job_id() for job in report] == [left["queued"]]
    assert [entry.finished for entry in provider.journal()] == [True]


# --------------------------------------------------------------------------- versions


def test_every_request_names_the_client_api_and_package_version(
    api: MockedApi, provider: VendorProvider
) -> None:
    backend = provider.get_backend("ideal_simulator")
    backend.run(bell(), shots=10).result()
    provider.jobs(limit=2)
    calls = api.calls()
    assert len(calls) >= 4
    for call in calls:
        assert call.request.headers[API_VERSION_HEADER] == API_VERSION
        assert call.request.headers[CLIENT_VERSION_HEADER].startswith("qiskit-vendor-provider/")
        # The emulator answers with its own.
        assert call.response.headers[API_VERSION_HEADER] == API_VERSION
        assert call.response.headers[SERVER_VERSION_HEADER].startswith("vendor-emulator/")
        assert (call.request.url or "").startswith(MOCK_URL)


def _compat_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, VendorCompatibilityWarning)]


def test_a_newer_server_api_is_warned_about_once(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    newer.api_version = "1.7"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client_of_newer.backends()
        _done_job(client_of_newer)
        client_of_newer.jobs(limit=3)
    shown = _compat_warnings(caught)
    assert len(shown) == 1, shown
    assert f"speaks API 1.7, newer than the {API_VERSION}" in shown[0] and "still works" in shown[0]


def test_a_server_warning_is_shown_once(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    newer.warning = "API 1.1 clients: the old_option will be removed in June"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client_of_newer.backends()
        client_of_newer.jobs(limit=3)
    assert _compat_warnings(caught) == [
        f"the server {URL} says: API 1.1 clients: the old_option will be removed in June"
    ]


def test_a_server_that_refuses_this_client_gives_a_typed_upgrade_error(
    newer: NewerServer, client_of_newer: VendorProvider
) -> None:
    newer.minimum_client = (9, 0)
    with pytest.raises(VendorUpgradeRequiredError, match=r"HTTP 426.*pip install -U") as caught:
        client_of_newer.backends()
    # Upgrading lifts it: a journalled submission refused so is kept for resume().
    assert not is_refusal(caught.value)


def _raw(app: Any, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:
    status, answer, body = dispatch(app, "GET", f"http://emulator.test{path}", headers, b"")
    return status, {k.lower(): v for k, v in answer}, json.loads(body)


def test_the_emulator_refuses_clients_below_its_minimum_with_426(tmp_path: Path) -> None:
    emulator = Emulator(EmulatorConfig(min_client_api="1.1"))
    app = create_app(emulator)
    status, headers, body = _raw(app, "/v1/devices", {})  # a client before 1.1 sends none
    assert status == 426 and headers["content-type"] == "application/problem+json"
    assert "API 1.1 and newer; this one speaks 1.0" in body["detail"]
    assert body["type"] == "urn:vendor:problem:upgrade-required" and body["request_id"]
    assert headers["x-request-id"] == body["request_id"]
    assert _raw(app, "/v1/devices", {API_VERSION_HEADER: "1.1"})[0] == 200

    too_new = Emulator(EmulatorConfig(min_client_api="2.0"))
    client = VendorProvider(transport=InProcessTransport(create_app(too_new)), journal=False)
    with pytest.raises(VendorUpgradeRequiredError, match=r"API 2\.0 and newer"):
        client.backends()


def test_the_emulator_warns_an_older_client_once(emulator: Emulator) -> None:
    app = create_app(emulator)
    old = {"User-Agent": "qiskit-vendor-provider/0.1.0 test-warns-once"}
    status, first, _ = _raw(app, "/v1/jobs", old)
    assert status == 200 and first[API_VERSION_HEADER.lower()] == API_VERSION
    assert "withdrawn devices" in first[WARNING_HEADER.lower()]
    assert "pip install -U qiskit-vendor-provider" in first[WARNING_HEADER.lower()]
    assert WARNING_HEADER.lower() not in _raw(app, "/v1/jobs", old)[1]
    # A current client is never warned; a route without the feature neither.
    current = {**old, API_VERSION_HEADER: API_VERSION, "User-Agent": "current"}
    assert WARNING_HEADER.lower() not in _raw(app, "/v1/jobs", current)[1]
    other = {"User-Agent": "qiskit-vendor-provider/0.1.0 devices-only"}
    assert WARNING_HEADER.lower() not in _raw(app, "/v1/devices", other)[1]
    # An error answer never carries it (it must not differ by what came before); the
    # next success does.
    missing = _raw(app, "/v1/jobs/" + "0" * 32, other)
    assert missing[0] == 404 and WARNING_HEADER.lower() not in missing[1]
    assert WARNING_HEADER.lower() in _raw(app, "/v1/jobs", other)[1]
