"""The customer data card's tabs and panels, to which every app adds what it knows.

The card is where the firm's knowledge of one customer comes together: this app shows the
four groups of facts, the contacts, the transactions and the history; sales adds the
activity timeline, tasks the work to do, analytics the value figures, and later apps their
own. Each app registers its tabs and panels in its AppConfig.ready(), so that customers
imports none of them and a new app joins the card without editing this one.

A tab is a partial template with a function that adds what it needs to the card's context
(which already holds `customer`, `user`, `may_change`, `may_contribute`, `sees_sensitive` …);
a panel is a partial shown above the tabs on every card. A tab that names other customers
(a referral's) lists their ids under NAMED, so that the card's audit row names them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from kehu.audit.labels import PARTS

Context = Callable[[HttpRequest, Any], dict]

NAMED = "customers_named"


def _nothing(request: HttpRequest, customer) -> dict:
    return {}


def _everyone(user) -> bool:
    return True


@dataclass(frozen=True)
class Tab:
    key: str
    label: Any  # a lazy translation
    order: int
    template: str
    context: Context = field(default=_nothing)
    # Whom the tab is shown to (a policy rule, e.g. the sensitive tier); others never see it.
    visible: Callable[[Any], bool] = field(default=_everyone)


@dataclass(frozen=True)
class Panel:
    key: str
    order: int
    template: str
    context: Context = field(default=_nothing)


_tabs: dict[str, Tab] = {}
_panels: dict[str, Panel] = {}


def add_tab(tab: Tab) -> None:
    if tab.key in _tabs and _tabs[tab.key] != tab:
        raise ValueError(f"the card already has a tab {tab.key!r}")
    _tabs[tab.key] = tab
    # The audit log names a read of this tab by the tab's label.
    PARTS.setdefault(tab.key, tab.label)


def add_panel(panel: Panel) -> None:
    if panel.key in _panels and _panels[panel.key] != panel:
        raise ValueError(f"the card already has a panel {panel.key!r}")
    _panels[panel.key] = panel


def tabs(user=None) -> list[Tab]:
    """The tabs in order; with a user, only those shown to them."""
    return sorted((t for t in _tabs.values() if user is None or t.visible(user)),
                  key=lambda t: t.order)


def tab(key: str, user=None) -> Tab | None:
    found = _tabs.get(key)
    if found is not None and user is not None and not found.visible(user):
        return None
    return found


def panels() -> list[Panel]:
    return sorted(_panels.values(), key=lambda p: p.order)
