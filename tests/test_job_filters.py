"""The jobs() methods hand their filters on by name, to the one query builder."""

from __future__ import annotations

import inspect

import pytest

from qiskit_vendor_provider import VendorProvider, VendorValidationError
from qiskit_vendor_provider.backend import VendorBackend
from qiskit_vendor_provider.job import check_job_id
from qiskit_vendor_provider.job_listing import build_query, given_filters
from tests.conftest import MockedApi


def _names(function: object) -> list[str]:
    parameters = inspect.signature(function).parameters.values()  # type: ignore[arg-type]
    return [p.name for p in parameters if p.kind is not p.VAR_KEYWORD and p.name != "self"]


def test_every_filter_of_either_jobs_method_is_one_of_the_query_builders() -> None:
    builder = set(_names(build_query)) - {"device"}
    provider_filters = set(_names(VendorProvider.jobs)) - {"limit", "skip", "backend_name"}
    backend_filters = set(_names(VendorBackend.jobs)) - {"limit", "skip"}
    assert provider_filters == builder
    assert backend_filters <= provider_filters


def test_given_filters_leaves_out_self_and_the_refused() -> None:
    given = {"self": object(), "unsupported": {}, "limit": 3, "status": "DONE"}
    assert given_filters(given, leave_out=("limit",)) == {"status": "DONE"}


def test_backend_jobs_reaches_the_server_with_its_filters(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    backend.jobs(5, 0, None, "vqe", None, None, ["t"], "AND", False)
    query = api.calls("GET")[-1].request.url
    for part in ("device=ideal_simulator", "name=vqe", "tags=t", "tags_operator=AND"):
        assert part in query, query
    assert "descending=false" in query.lower() or "order=asc" in query.lower(), query


@pytest.mark.parametrize("bad", ["", "  ", None, 3])
def test_one_job_id_check_for_the_provider_and_the_backend(
    provider: VendorProvider, bad: object
) -> None:
    with pytest.raises(VendorValidationError, match="a job id is a non-empty string"):
        check_job_id(bad)
    for owner in (provider, provider.get_backend("ideal_simulator")):
        with pytest.raises(VendorValidationError, match="a job id is a non-empty string"):
            owner.retrieve_job(bad)  # type: ignore[arg-type]
