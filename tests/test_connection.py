"""The provider hands its backends, jobs and sessions one explicit Connection."""

from __future__ import annotations

import copy
import pickle
import re
from pathlib import Path

import pytest

from qiskit_vendor_provider import VendorProvider, VendorValidationError
from qiskit_vendor_provider.connection import Connection
from tests.conftest import MockedApi
from tests.helpers import bell

PACKAGE = Path(__file__).resolve().parents[1] / "qiskit_vendor_provider"


def test_backends_and_their_jobs_share_the_providers_connection(
    provider: VendorProvider, api: MockedApi
) -> None:
    backend = provider.get_backend("ideal_simulator")
    assert isinstance(provider.connection, Connection)
    assert backend.connection is provider.connection
    assert backend.provider is provider
    job = backend.run(bell(), shots=3)
    assert job._client is provider.connection.client
    assert copy.deepcopy(backend).connection is backend.connection
    assert pickle.loads(pickle.dumps(job)).backend().connection is provider.connection


def test_the_poll_interval_is_checked_when_changed(provider: VendorProvider) -> None:
    provider.poll_interval = (0.1, 3.0)
    assert provider.poll_interval == (0.1, 3.0) == provider.connection.poll_interval
    with pytest.raises(VendorValidationError, match="the first must not exceed the longest"):
        provider.poll_interval = (5.0, 1.0)
    assert provider.get_backend("ideal_simulator").poll_interval == (0.1, 3.0)


@pytest.mark.parametrize("module", ["backend.py", "job.py", "session.py", "recovery.py"])
def test_nothing_below_the_provider_reaches_into_its_private_attributes(module: str) -> None:
    source = (PACKAGE / module).read_text()
    reaches = re.findall(r"\b(?:backend|provider)\._(?:provider|client|journal\w*)\b", source)
    assert not reaches, f"{module} reaches back: {reaches}"
