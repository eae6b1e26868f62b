"""Every user mistake fails before any HTTP call, with a typed error that names the fix."""

from __future__ import annotations

import datetime as dt
import inspect
import math
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.providers import JobStatus

from qiskit_vendor_provider import (
    CircuitValidationError,
    VendorAuthError,
    VendorNotFoundError,
    VendorProvider,
    VendorValidationError,
)
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.run_options import RUN_OPTION_NAMES
from tests.conftest import MOCK_URL, MockedApi
from tests.helpers import bell


def native_circuit(*gates: tuple[str, tuple[int, ...]]) -> QuantumCircuit:
    circuit = QuantumCircuit(27, 1, name="native")
    for name, qubits in gates:
        getattr(circuit, name)(*qubits)
    circuit.measure(0, 0)
    return circuit


def unbound() -> QuantumCircuit:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1, name="sweep")
    circuit.rx(theta, 0)
    circuit.measure(0, 0)
    return circuit


def nan_angle() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name="nan")
    circuit.rx(math.nan, 0)
    circuit.measure(0, 0)
    return circuit


def too_wide() -> QuantumCircuit:
    circuit = QuantumCircuit(33, 1, name="wide")
    circuit.measure(32, 0)
    return circuit


def control_flow() -> QuantumCircuit:
    circuit = QuantumCircuit(1, 1, name="dynamic")
    circuit.measure(0, 0)
    with circuit.if_test((circuit.clbits[0], 1)):
        circuit.x(0)
    return circuit


Action = Callable[[VendorProvider], Any]


def _calls(method: str, names: Iterable[str], action: Action) -> Action:
    """Mark ``action`` as calling backend ``method`` with the arguments ``names``.

    The coverage tests below read these marks: which run options and listing filters
    the table gets wrong on purpose.
    """
    action.method = method  # type: ignore[attr-defined]
    action.passes = frozenset(names)  # type: ignore[attr-defined]
    return action


def run_on(device: str, make: Callable[[], Any], **options: Any) -> Action:
    return _calls(
        "run", options, lambda provider: provider.get_backend(device).run(make(), **options)
    )


def on_backend(device: str, method: str, *args: Any, **kwargs: Any) -> Action:
    return _calls(
        method,
        kwargs,
        lambda provider: getattr(provider.get_backend(device), method)(*args, **kwargs),
    )


def rx_sweep(values: Any) -> Callable[[VendorProvider], Any]:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, 1, name="sweep")
    circuit.rx(theta, 0)
    circuit.measure(0, 0)
    binds = values(theta) if callable(values) else [{theta: values}]
    return _calls(
        "run",
        ["parameter_binds"],
        lambda provider: provider.get_backend("ideal_simulator").run(
            circuit, parameter_binds=binds
        ),
    )


IDEAL, SPARSE = "ideal_simulator", "superconducting_27q"
Mistake = tuple[str, Callable[[VendorProvider], Any], type[Exception], list[str]]

# Every mistake a user can make with the SDK, with the error it raises and what its
# message must say. None of them may cause an HTTP request.
MISTAKES: list[Mistake] = [
    # circuits
    (
        "non-native gate",
        run_on(SPARSE, bell),
        CircuitValidationError,
        [
            "circuit 0 ('bell')",
            "instruction 0 (h",
            "not a native operation",
            "generate_preset_pass_manager",
        ],
    ),
    (
        "uncoupled qubits",
        run_on(SPARSE, lambda: native_circuit(("ecr", (0, 5)))),
        CircuitValidationError,
        ["cannot apply 'ecr' to qubits (0, 5)", "transpile first"],
    ),
    (
        "wrong direction",
        run_on(SPARSE, lambda: native_circuit(("ecr", (1, 0)))),
        CircuitValidationError,
        ["cannot apply 'ecr' to qubits (1, 0)"],
    ),
    (
        "unbound parameters",
        run_on(IDEAL, unbound),
        CircuitValidationError,
        ["unbound parameters: theta", "assign_parameters"],
    ),
    ("NaN angle", run_on(IDEAL, nan_angle), CircuitValidationError, ["not a finite number"]),
    (
        "too many qubits",
        run_on(IDEAL, too_wide),
        CircuitValidationError,
        ["has 33 qubits but device 'ideal_simulator' has 32"],
    ),
    (
        "control flow",
        run_on("trapped_ion_11q", control_flow),  # the one device without dynamic circuits
        CircuitValidationError,
        ["classical control flow"],
    ),
    (
        "not a circuit",
        run_on(IDEAL, lambda: [bell(), "not a circuit"]),
        VendorValidationError,
        ["item 1 is a str"],
    ),
    ("no circuits", run_on(IDEAL, list), VendorValidationError, ["given no circuits"]),
    (
        "too many circuits",
        run_on(SPARSE, lambda: [native_circuit()] * 301),
        VendorValidationError,
        ["301 circuits exceed the 300 per job", "VendorSampler"],
    ),
    # run options
    (
        "zero shots",
        run_on(IDEAL, bell, shots=0),
        VendorValidationError,
        ["shots=0 is out of range", "1 to 1000000"],
    ),
    (
        "shots over the device limit",
        run_on(SPARSE, native_circuit, shots=100_001),
        VendorValidationError,
        ["shots=100001 is out of range", "1 to 100000"],
    ),
    ("fractional shots", run_on(IDEAL, bell, shots=10.5), VendorValidationError, ["shots=10.5"]),
    ("boolean shots", run_on(IDEAL, bell, shots=True), VendorValidationError, ["shots=True"]),
    ("string shots", run_on(IDEAL, bell, shots="100"), VendorValidationError, ["shots='100'"]),
    (
        "unknown option",
        run_on(IDEAL, bell, shot=100),
        VendorValidationError,
        ["unknown run option(s) shot", "valid options: shots, memory"],
    ),
    (
        "memory not a bool",
        run_on(IDEAL, bell, memory="yes"),
        VendorValidationError,
        ["memory='yes' must be True or False"],
    ),
    (
        "negative seed",
        run_on(IDEAL, bell, seed_simulator=-1),
        VendorValidationError,
        ["seed_simulator=-1"],
    ),
    (
        "fractional seed",
        run_on(IDEAL, bell, seed_simulator=1.5),
        VendorValidationError,
        ["seed_simulator=1.5"],
    ),
    (
        "tags as a string",
        run_on(IDEAL, bell, job_tags="calibration"),
        VendorValidationError,
        ["job_tags='calibration' must be a list"],
    ),
    (
        "name not a string",
        run_on(IDEAL, bell, job_name=5),
        VendorValidationError,
        ["job_name=5 must be a string"],
    ),
    (
        "tag too long",
        run_on(IDEAL, bell, job_tags=["x" * 65]),
        VendorValidationError,
        ["job_tags item is 65 characters long", "the most is 64"],
    ),
    (
        "run-time limit not a number",
        run_on(IDEAL, bell, max_execution_time="10"),
        VendorValidationError,
        ["max_execution_time='10' is out of range", "backend.limits.max_execution_time"],
    ),
    (
        "negative run-time limit",
        run_on(IDEAL, bell, max_execution_time=-1),
        VendorValidationError,
        ["max_execution_time=-1 is out of range"],
    ),
    (
        "progress bar not a bool",
        run_on(IDEAL, bell, with_progress_bar="yes"),
        VendorValidationError,
        ["with_progress_bar='yes'"],
    ),
    # parameter binds
    (
        "binds not a list",
        rx_sweep(lambda theta: {theta: [1.0]}),
        VendorValidationError,
        ["one dict per circuit"],
    ),
    (
        "binds missing a parameter",
        rx_sweep(lambda theta: [{}]),
        VendorValidationError,
        ["missing ['theta']"],
    ),
    (
        "binds of another parameter",
        rx_sweep(lambda theta: [{Parameter("other"): [1.0]}]),
        VendorValidationError,
        ["not in the circuit ['other']"],
    ),
    (
        "binds keyed by name",
        rx_sweep(lambda theta: [{"theta": [1.0]}]),
        VendorValidationError,
        ["not in the circuit ['theta']"],
    ),
    (
        "binds entry not a dict",
        rx_sweep(lambda theta: ["values"]),
        VendorValidationError,
        ["parameter_binds[0] is a str; give a dict"],
    ),
    ("NaN value", rx_sweep([math.nan]), VendorValidationError, ["NaN or infinite"]),
    ("no values", rx_sweep([]), VendorValidationError, ["non-empty 1-D list"]),
    ("nested values", rx_sweep([[1.0, 2.0]]), VendorValidationError, ["non-empty 1-D list"]),
    ("text values", rx_sweep(["a"]), VendorValidationError, ["list of numbers"]),
    (
        "too many rows",
        rx_sweep(list(range(100_001))),
        VendorValidationError,
        ["has 100001 rows of parameter values"],
    ),
    # job listing
    (
        "negative limit",
        on_backend(IDEAL, "jobs", limit=-1),
        VendorValidationError,
        ["limit=-1 must be a whole number"],
    ),
    (
        "fractional limit",
        on_backend(IDEAL, "jobs", limit=2.5),
        VendorValidationError,
        ["limit=2.5"],
    ),
    ("skip as text", on_backend(IDEAL, "jobs", skip="a"), VendorValidationError, ["skip='a'"]),
    (
        "unknown status",
        on_backend(IDEAL, "jobs", status="DONEE"),
        VendorValidationError,
        ["status='DONEE' is not a job status"],
    ),
    (
        "status of the wrong type",
        on_backend(IDEAL, "jobs", status=[JobStatus.DONE, 3]),
        VendorValidationError,
        ["status=3"],
    ),
    (
        "bad name regex",
        on_backend(IDEAL, "jobs", job_name="("),
        VendorValidationError,
        ["not a valid regular expression"],
    ),
    (
        "name regex not a string",
        on_backend(IDEAL, "jobs", job_name=5),
        VendorValidationError,
        ["job_name=5 must be a regular expression"],
    ),
    (
        "filter tags as a string",
        on_backend(IDEAL, "jobs", job_tags="vqe"),
        VendorValidationError,
        ["job_tags='vqe' must be a list"],
    ),
    (
        "empty filter tag",
        on_backend(IDEAL, "jobs", job_tags=["", "x"]),
        VendorValidationError,
        ["must be a list of non-empty strings"],
    ),
    (
        "unknown tag operator",
        on_backend(IDEAL, "jobs", job_tags_operator="XOR"),
        VendorValidationError,
        ["job_tags_operator='XOR'"],
    ),
    (
        "date as text",
        on_backend(IDEAL, "jobs", start_datetime="2026-01-01"),
        VendorValidationError,
        ["start_datetime='2026-01-01' must be a datetime"],
    ),
    (
        "end date as text",
        on_backend(IDEAL, "jobs", end_datetime="2026-01-01"),
        VendorValidationError,
        ["end_datetime='2026-01-01' must be a datetime"],
    ),
    (
        "IBM's database filter",
        on_backend(IDEAL, "jobs", db_filter={"status": "DONE"}),
        VendorValidationError,
        ["jobs(db_filter=...) is not supported", "job_tags="],
    ),
    (
        "order not a bool",
        on_backend(IDEAL, "jobs", descending="yes"),
        VendorValidationError,
        ["descending='yes'"],
    ),
    (
        "dates out of order",
        on_backend(
            IDEAL,
            "jobs",
            start_datetime=dt.datetime(2026, 2, 1),
            end_datetime=dt.datetime(2026, 1, 1),
        ),
        VendorValidationError,
        ["must be before end_datetime"],
    ),
    (
        "provider listing limit",
        lambda p: p.jobs(limit="ten"),
        VendorValidationError,
        ["limit='ten'"],
    ),
    # other calls
    (
        "reservation date as text",
        on_backend("trapped_ion_11q", "reservations", start_datetime="tomorrow"),
        VendorValidationError,
        ["start_datetime='tomorrow' must be a datetime"],
    ),
    (
        "empty job id",
        lambda p: p.retrieve_job(""),
        VendorValidationError,
        ["a job id is a non-empty string"],
    ),
    (
        "job id not a string",
        on_backend(IDEAL, "retrieve_job", 42),
        VendorValidationError,
        ["a job id is a non-empty string, not 42"],
    ),
    (
        "backend name not a string",
        lambda p: p.get_backend(3),
        VendorValidationError,
        ["a backend name is a string, not int"],
    ),
    (
        "bad backend regex",
        lambda p: p.backends(name="(["),
        VendorValidationError,
        ["not a valid regex"],
    ),
    (
        "negative timeout",
        lambda p: VendorProvider(url=MOCK_URL, timeout=-1),
        VendorValidationError,
        ["timeout=-1 must be a positive number"],
    ),
    (
        "poll interval not a pair",
        lambda p: VendorProvider(url=MOCK_URL, poll_interval=1.0),
        VendorValidationError,
        ["poll_interval=1.0 must be a pair"],
    ),
    (
        "token over plain http",
        lambda p: VendorProvider(url="http://api.vendor.test", token="t-1234567890"),
        VendorAuthError,
        ["refusing to send a token over plain http", "https://"],
    ),
    (
        "url without scheme",
        lambda p: VendorProvider(url="api.vendor.test", token="t-1234567890"),
        VendorValidationError,
        ["must start with https://"],
    ),
    (
        "url not a string",
        lambda p: VendorProvider(url=8765),
        VendorValidationError,
        ["url must be a string"],
    ),
    (
        "save without a token",
        lambda p: VendorProvider.save_account(token=""),
        VendorAuthError,
        ["save_account needs a token"],
    ),
    (
        "unknown saved account",
        lambda p: VendorProvider(name="nobody"),
        VendorValidationError,
        ["no saved account named 'nobody'"],
    ),
]


# Mistakes the SDK does not catch yet, each found by a coverage test below: strict, so
# the row fails the suite once the SDK catches the mistake and the entry is stale.
KNOWN_GAPS: dict[str, str] = {}


@pytest.mark.parametrize(
    ("action", "error", "fragments"),
    [
        pytest.param(
            action,
            error,
            fragments,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[name])]
            if name in KNOWN_GAPS
            else [],
        )
        for name, action, error, fragments in MISTAKES
    ],
)
def test_user_mistake_fails_before_any_http_call(
    provider: VendorProvider,
    api: MockedApi,
    action: Callable[[VendorProvider], Any],
    error: type[Exception],
    fragments: list[str],
) -> None:
    for device in (IDEAL, SPARSE, "trapped_ion_11q"):
        provider.get_backend(device)  # fetched first: only the mistake is under test
    before = len(api.calls())
    with pytest.raises(error) as info:
        action(provider)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert len(api.calls()) == before, "no HTTP request may be made for a user mistake"


def _wrong_arguments(method: str) -> set[str]:
    """The arguments of backend ``method`` that some row of the table gets wrong."""
    return {
        name
        for _, action, *_ in MISTAKES
        if getattr(action, "method", None) == method
        for name in action.passes  # type: ignore[attr-defined]
    }


def test_the_table_gets_every_run_option_wrong() -> None:
    # Read from the run-options model: an option added there needs a row here.
    assert set(RUN_OPTION_NAMES) - _wrong_arguments("run") == set()
    assert "parameter_binds" in _wrong_arguments("run")  # an argument, not an option


def test_the_table_gets_every_listing_filter_wrong() -> None:
    signature = inspect.signature(VendorBackend.jobs).parameters.values()
    named = {p.name for p in signature if p.name != "self" and p.kind is not p.VAR_KEYWORD}
    assert named - _wrong_arguments("jobs") == set()
    # ... and one of IBM's filters that land in **unsupported.
    assert _wrong_arguments("jobs") - named


def test_the_table_names_each_mistake_once() -> None:
    assert len({name for name, *_ in MISTAKES}) == len(MISTAKES)
    assert set(KNOWN_GAPS) <= {name for name, *_ in MISTAKES}


def test_set_options_rejects_out_of_range_shots(provider: VendorProvider) -> None:
    backend = provider.get_backend("superconducting_27q")
    with pytest.raises(ValueError, match="<=100000"):
        backend.set_options(shots=100_001)
    with pytest.raises(AttributeError):
        backend.set_options(shotz=10)


def test_unknown_backend_lists_names_and_close_matches(provider: VendorProvider) -> None:
    with pytest.raises(VendorNotFoundError) as info:
        provider.get_backend("ideal_simulater")
    message = str(info.value)
    assert "Did you mean ideal_simulator?" in message
    assert "Available: ideal_simulator, superconducting_27q" in message


def test_job_over_the_payload_limit_is_refused_unsent(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    circuit = QuantumCircuit(2, 2, name="long")
    for _ in range(4000):
        circuit.rx(0.123456789, 0)
    circuit.measure([0, 1], [0, 1])
    limits = backend.limits.model_copy(update={"max_payload_bytes": 10_000})
    backend._spec = backend.spec.model_copy(update={"limits": limits})
    before = len(api.calls())
    with pytest.raises(VendorValidationError, match=r"over the 10000-byte limit"):
        backend.run(circuit)
    assert len(api.calls()) == before
