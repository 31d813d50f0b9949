"""kehu.value: customer value models, pure numpy/scipy (never Django).

RFM summaries, BG/NBD, MBG/NBD and Pareto/NBD (who is alive, how many purchases next), Gamma-Gamma
(how much per purchase), and customer lifetime value (expected spend, or expected profit).
See docs/value.md.

    s = rfm_summary(customer_ids, dates, amounts, as_of="1997-09-30")
    bg = BetaGeoModel().fit(s.frequency, s.recency, s.T)
    gg = GammaGammaModel().fit(s.frequency, s.monetary_value)
    clv = customer_lifetime_value(bg, gg, s.frequency, s.recency, s.T, s.monetary_value)

The names below are imported on first use (PEP 562), so that `import kehu.value.readers`
does not pay for scipy: `kehu value` reads its file while the models load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ActiveSchedules": "kehu.value.clv",
    "BetaGeoModel": "kehu.value.bgnbd",
    "GammaGammaModel": "kehu.value.gamma_gamma",
    "HoldoutReport": "kehu.value.holdout",
    "ModifiedBetaGeoModel": "kehu.value.bgnbd",
    "ParetoNBDModel": "kehu.value.paretonbd",
    "RFMSummary": "kehu.value.rfm",
    "TransactionModel": "kehu.value._base",
    "ValueModelError": "kehu.value.errors",
    "clv_details": "kehu.value.clv",
    "credible_margin": "kehu.value.clv",
    "customer_lifetime_value": "kehu.value.clv",
    "evaluate_holdout": "kehu.value.holdout",
    "lifetime_profit": "kehu.value.clv",
    "month_length": "kehu.value.clv",
    "profit_clv_details": "kehu.value.clv",
    "rfm_summary": "kehu.value.rfm",
}

__all__ = [
    "ActiveSchedules",
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutReport",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "RFMSummary",
    "TransactionModel",
    "ValueModelError",
    "clv_details",
    "credible_margin",
    "customer_lifetime_value",
    "evaluate_holdout",
    "lifetime_profit",
    "month_length",
    "profit_clv_details",
    "rfm_summary",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kehu.value' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


if TYPE_CHECKING:  # for type checkers and IDEs
    from kehu.value._base import TransactionModel
    from kehu.value.bgnbd import BetaGeoModel, ModifiedBetaGeoModel
    from kehu.value.clv import (
        ActiveSchedules,
        clv_details,
        credible_margin,
        customer_lifetime_value,
        lifetime_profit,
        month_length,
        profit_clv_details,
    )
    from kehu.value.errors import ValueModelError
    from kehu.value.gamma_gamma import GammaGammaModel
    from kehu.value.holdout import HoldoutReport, evaluate_holdout
    from kehu.value.paretonbd import ParetoNBDModel
    from kehu.value.rfm import RFMSummary, rfm_summary
