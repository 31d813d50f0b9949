"""kehu.value: customer value models, pure numpy/scipy (never Django).

RFM summaries, BG/NBD and Pareto/NBD (who is alive, how many purchases next), Gamma-Gamma
(how much per purchase), and customer lifetime value. See docs/value.md.

    s = rfm_summary(customer_ids, dates, amounts, as_of="1997-09-30")
    bg = BetaGeoModel().fit(s.frequency, s.recency, s.T)
    gg = GammaGammaModel().fit(s.frequency, s.monetary_value)
    clv = customer_lifetime_value(bg, gg, s.frequency, s.recency, s.T, s.monetary_value)
"""

from kehu.value.bgnbd import BetaGeoModel
from kehu.value.clv import clv_details, customer_lifetime_value, month_length
from kehu.value.errors import ValueModelError
from kehu.value.gamma_gamma import GammaGammaModel
from kehu.value.holdout import HoldoutReport, evaluate_holdout
from kehu.value.paretonbd import ParetoNBDModel
from kehu.value.rfm import RFMSummary, rfm_summary

__all__ = [
    "BetaGeoModel",
    "GammaGammaModel",
    "HoldoutReport",
    "ParetoNBDModel",
    "RFMSummary",
    "ValueModelError",
    "clv_details",
    "customer_lifetime_value",
    "evaluate_holdout",
    "month_length",
    "rfm_summary",
]
