"""The wire layer: pydantic models of the REST API and the one HTTP client that speaks it."""
