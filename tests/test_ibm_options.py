"""Run options of IBM backends: understood, checked, and refused only with a reason."""

from __future__ import annotations

import pytest
from qiskit.result.models import MeasLevel, MeasReturnType

from qiskit_vendor_provider import VendorProvider, VendorValidationError
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
