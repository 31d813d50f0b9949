"""The API client fixtures, shared with the API tests."""

from tests.api.conftest import api, tokens  # noqa: F401
