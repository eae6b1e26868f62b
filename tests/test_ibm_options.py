"""What users bring from IBM backends: run options, understood or refused with a reason,
and ``provider.least_busy()``."""

from __future__ import annotations

import pytest
from qiskit.result.models import MeasLevel, MeasReturnType

from qiskit_vendor_provider import VendorNotFoundError, VendorProvider, VendorValidationError
from qiskit_vendor_provider.api.models import DeviceSpec
from qiskit_vendor_provider.emulator import Emulator
from tests.conftest import MockedApi
from tests.helpers import bell

IDEAL = "ideal_simulator"
NOISY = "superconducting_27q"


@pytest.mark.parametrize(
    "options",
    [
        {"meas_level": 2},
        {"meas_level": MeasLevel.CLASSIFIED, "meas_return": MeasReturnType.SINGLE},
        {"meas_level": 2, "meas_return": "avg"},
        {"rep_delay": 0.0},
        {"rep_delay": 1e-3},
        {"init_qubits": True},
        {"rep_delay": None},
    ],
)
def test_ibm_options_are_accepted_and_change_nothing(
    provider: VendorProvider, options: dict[str, object]
) -> None:
    backend = provider.get_backend(IDEAL)
    plain = backend.run(bell(), shots=200, seed_simulator=3).result().get_counts()
    counts = backend.run(bell(), shots=200, seed_simulator=3, **options).result().get_counts()
    assert counts == plain


@pytest.mark.parametrize(
    ("device", "options", "fragment"),
    [
        (IDEAL, {"meas_level": 1}, "meas_level=1 is not available: the device returns classified"),
        (
            IDEAL,
            {"meas_level": MeasLevel.RAW},
            "is not available: the device returns classified",
        ),
        (
            NOISY,
            {"rep_delay": 1e-3},
            "rep_delay=0.001 is out of range: give seconds from 0 to 0.0005",
        ),
        (NOISY, {"rep_delay": -1.0}, "out of range"),
        (NOISY, {"rep_delay": "long"}, "out of range"),
        (IDEAL, {"init_qubits": False}, "every shot starts with its qubits reset"),
        (IDEAL, {"meas_return": "mean"}, "must be 'single' or 'avg'"),
    ],
)
def test_unavailable_ibm_options_are_refused_with_a_reason_before_http(
    provider: VendorProvider,
    api: MockedApi,
    device: str,
    options: dict[str, object],
    fragment: str,
) -> None:
    backend = provider.get_backend(device)
    before = len(api.calls())
    with pytest.raises(VendorValidationError) as info:
        backend.run(bell(), **options)
    assert fragment in str(info.value)
    assert len(api.calls()) == before


def test_every_device_states_its_rep_delay_range(provider_session: VendorProvider) -> None:
    for backend in provider_session.backends():
        spec = backend.spec
        assert spec.rep_delay_range is not None, spec.name
        low, high = spec.rep_delay_range
        assert spec.default_rep_delay is not None and low <= spec.default_rep_delay <= high


# --------------------------------------------------------------------------- least_busy


@pytest.fixture
def queues(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Pending jobs per device, as the emulator will report them (edit to change)."""
    pending = {"ideal_simulator": 5, "superconducting_27q": 2, "trapped_ion_11q": 9}
    monkeypatch.setattr(emulator.store, "pending_count", lambda name: pending[name])
    return pending


def test_the_device_with_the_fewest_pending_jobs_is_chosen(
    provider_session: VendorProvider, queues: dict[str, int]
) -> None:
    assert provider_session.least_busy().name == "superconducting_27q"
    queues["trapped_ion_11q"] = 0
    assert provider_session.least_busy().name == "trapped_ion_11q"
    queues["ideal_simulator"] = 0  # a tie goes to the first name
    assert provider_session.least_busy().name == "ideal_simulator"


def test_the_filters_of_backends_apply(
    provider_session: VendorProvider, queues: dict[str, int]
) -> None:
    assert provider_session.least_busy(simulator=True).name == "ideal_simulator"
    assert provider_session.least_busy(min_num_qubits=28).name == "ideal_simulator"
    assert provider_session.least_busy("trapped.*").name == "trapped_ion_11q"
    with pytest.raises(VendorNotFoundError, match="min_num_qubits=100"):
        provider_session.least_busy(min_num_qubits=100)
    with pytest.raises(VendorValidationError, match="operational=False"):
        provider_session.least_busy(operational=False)


def test_a_device_that_is_not_operational_is_passed_over(
    provider_session: VendorProvider,
    emulator: Emulator,
    queues: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = emulator._operational

    def operational(spec: DeviceSpec) -> tuple[bool, str]:
        if spec.name == "superconducting_27q":
            return False, "maintenance"
        return original(spec)

    monkeypatch.setattr(emulator, "_operational", operational)
    assert provider_session.least_busy().name == "ideal_simulator"
