"""What apps above analytics add to its pages, registered from their AppConfig.ready():
actions on a group of customers the value dashboard shows (a value segment, a volume ×
loyalty quadrant), such as marketing's "new campaign from this segment"."""

from __future__ import annotations

from collections.abc import Callable

# (user, field, key) -> (label, url) or None; field is "segment" or "quadrant".
GroupAction = Callable[[object, str, str], tuple[str, str] | None]
_GROUP_ACTIONS: list[GroupAction] = []


def add_group_action(action: GroupAction) -> None:
    if action not in _GROUP_ACTIONS:
        _GROUP_ACTIONS.append(action)


def group_actions(user, field: str, key: str) -> list[tuple[str, str]]:
    """The (label, url) of each action offered to `user` on the group."""
    out = []
    for action in _GROUP_ACTIONS:
        offered = action(user, field, key)
        if offered is not None:
            out.append(offered)
    return out
