"""What apps above analytics add to the value refresh, registered from their AppConfig.ready():

- hours of work logged per customer that cost the firm (the time spent on tickets, kehu.service):
  priced at the hourly cost an admin sets for the source's kind on the value settings page,
  as a cost to serve or a relationship investment by that kind's flag (ActivityCost), like
  the timeline's activities;
- customers at risk for a reason the purchase models cannot see (an open complaint): a
  valuable one among them is marked at risk by the refresh as by the rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class HoursSource:
    kind: str  # the ActivityCost row that holds its hourly cost (at most 10 characters)
    label: Any  # what the value settings page calls it (translatable)
    # (as_of, since) -> customer ids (sorted, unique), hours up to as_of, hours after since
    hours: Callable[[dt.datetime, dt.datetime], tuple[np.ndarray, np.ndarray, np.ndarray]]


HOURS_SOURCES: dict[str, HoursSource] = {}
RISK_SOURCES: list[Callable[[], Iterable[int]]] = []


def register_hours(source: HoursSource) -> None:
    HOURS_SOURCES[source.kind] = source


def register_risk(customers_at_risk: Callable[[], Iterable[int]]) -> None:
    if customers_at_risk not in RISK_SOURCES:
        RISK_SOURCES.append(customers_at_risk)


def cost_kinds() -> list[tuple[str, Any]]:
    """Every kind a unit cost is set for: the timeline's activities (per activity), then the
    registered hours (per hour)."""
    from kehu.sales.models import ActivityKind

    return list(ActivityKind.choices) + [(s.kind, s.label) for s in HOURS_SOURCES.values()]


def risk_ids() -> np.ndarray:
    """The customers some registered source says are at risk, sorted."""
    found: set[int] = set()
    for source in RISK_SOURCES:
        found.update(int(pk) for pk in source())
    return np.asarray(sorted(found), dtype=np.int64)
