"""Fixtures of the service tests."""

from tests.api.conftest import api, tokens  # noqa: F401
