"""The OpenAPI document of the REST API, generated from the emulator's app.

The emulator validates requests with the API's pydantic models, so the document it
generates is the contract the client is written against. Regenerate after changing a
route or a model (a test fails while ``docs/_static/openapi.json`` is stale)::

    python -m qiskit_vendor_provider.emulator.openapi > docs/_static/openapi.json
"""

from __future__ import annotations

import json
from typing import Any

from qiskit_vendor_provider.emulator.app import create_app
from qiskit_vendor_provider.emulator.service import Emulator


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the emulator's app."""
    document: dict[str, Any] = create_app(Emulator()).openapi()
    return document


def main() -> None:
    """Print the document as stable, sorted JSON."""
    print(json.dumps(openapi_document(), indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
