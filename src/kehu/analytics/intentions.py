"""What customers said elsewhere about buying again and recommending us, for the loyalty
index's attitude side (rules.loyalty).

A loyalty statement recorded on the card (models.LoyaltyStatement) is one source; apps above
analytics add theirs — the satisfaction surveys' answers (kehu.service.surveys) — by
registering a function here from their AppConfig.ready(), so that analytics imports none of
them. The refresh takes, for each customer and each of the two intentions, the latest value
any source gives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

# A source yields (customer id, the day it was said, intends to buy again 0-10 or None,
# would recommend us 0-10 or None) for every customer it knows something about.
Stated = tuple[int, dt.date, float | None, float | None]
Source = Callable[[], Iterable[Stated]]

_sources: list[Source] = []


def register(source: Source) -> None:
    if source not in _sources:
        _sources.append(source)


def sources() -> list[Source]:
    return list(_sources)
