"""What apps above analytics add to its pages, registered from their AppConfig.ready():
actions on a group of customers the value dashboard shows (a value segment, a volume ×
loyalty quadrant), such as marketing's "new campaign from this segment", and figures the
dashboard shows at its top, such as marketing's share of new customers who came by
referral."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Figure:
    """A figure at the top of the value dashboard: the figure itself ("58%"), what it is
    (a sentence), and where it is explained in full."""

    key: str
    value: str
    text: str
    url: str = ""
    link: str = ""


# user -> a Figure over the user's scope, or None when the user may not see it.
FigureSource = Callable[[object], Figure | None]
_FIGURES: list[FigureSource] = []


def add_dashboard_figure(source: FigureSource) -> None:
    if source not in _FIGURES:
        _FIGURES.append(source)


def dashboard_figures(user) -> list[Figure]:
    return [f for f in (source(user) for source in _FIGURES) if f is not None]
