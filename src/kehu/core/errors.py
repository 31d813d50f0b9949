"""Errors services raise; views and the API turn them into messages and status codes."""

from __future__ import annotations


class ServiceError(Exception):
    """A request a service refuses, with a message meant for the user."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class StaleVersion(ServiceError):
    """The record changed since the user loaded it."""

    def __init__(self, message: str, current_version: int, changed_by: str | None):
        super().__init__(message)
        self.current_version = current_version
        self.changed_by = changed_by


class NotPermitted(ServiceError):
    pass
