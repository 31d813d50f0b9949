"""The navigation's count of the user's tasks overdue and due today: the reminder that
shows on every page. Counted only when a page shows it."""

from __future__ import annotations

from functools import cached_property


class WorkbenchMenu:
    def __init__(self, user):
        self.user = user

    @cached_property
    def due(self) -> int:
        from kehu.workbench.selectors import due_counts

        return due_counts(self.user).total


def workbench_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_workbench": WorkbenchMenu(user)}
