"""Fixtures of the sales tests."""

from tests.api.conftest import api, tokens  # noqa: F401
