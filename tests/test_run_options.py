"""backend.run's options go through the run-options model; each device limit is the rule book's."""

from __future__ import annotations

import numpy as np
import pytest

from qiskit_vendor_provider import VendorValidationError, rules
from qiskit_vendor_provider.api.models import DeviceLimits
from qiskit_vendor_provider.run_options import check_run_options, default_run_options

LIMITS = DeviceLimits(max_shots=100, max_execution_time=60)


def options(**given: object) -> dict[str, object]:
    return {**default_run_options(), "shots": 10, **given}


@pytest.mark.parametrize(
    ("given", "limit"),
    [({"shots": 101}, "max_shots"), ({"max_execution_time": 61}, "max_execution_time")],
)
def test_a_value_over_a_device_limit_is_the_rule_books_verdict(
    given: dict[str, object], limit: str
) -> None:
    with pytest.raises(rules.DeviceLimitError) as caught:
        check_run_options(options(**given), LIMITS, device="d")
    assert caught.value.rule == limit


def test_run_and_the_job_rule_word_max_shots_alike() -> None:
    with pytest.raises(rules.DeviceLimitError) as caught:
        check_run_options(options(shots=101), LIMITS, device="d")
    assert str(caught.value) == rules.shots_problem(101, LIMITS, "d")
    assert "101 shots exceed the maximum of 100" in str(caught.value)


def test_the_model_gives_plain_types() -> None:
    checked = check_run_options(
        options(shots=np.int64(7), seed_simulator=np.uint8(3), job_tags=("a", "b")), LIMITS
    )
    assert (type(checked["shots"]), type(checked["seed_simulator"])) == (int, int)
    assert checked["job_tags"] == ["a", "b"]
    assert "rep_delay" not in checked


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"job_tags": ["x"] * 33}, "job_tags has 33 tags; the most is 32"),
        ({"job_tags": ["ok", ""]}, "must be a list of non-empty strings"),
        ({"job_name": "n" * 257}, "job_name is 257 characters long; the most is 256"),
        ({"job_name": "a\tb"}, "line break or control character"),
        ({"memory": np.bool_(True)}, "memory=np.True_ must be True or False"),
    ],
)
def test_each_refusal_names_its_option(given: dict[str, object], fragment: str) -> None:
    with pytest.raises(VendorValidationError, match=fragment):
        check_run_options(options(**given), LIMITS)
