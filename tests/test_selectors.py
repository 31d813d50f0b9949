"""Every selector takes the user. A read that does not know who asks cannot limit what it
returns to what they may see: a "selector" without a user once listed the referrers of a
card with the names and links of customers out of the reader's reach.

The check walks every `selectors.py` module of kehu, so a module or function added later is
held to it without editing this file. The few public functions there that read no customer
data are listed below, each with its reason; an entry that no longer applies fails too.
"""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import kehu

SRC = Path(kehu.__file__).resolve().parent

NOT_CUSTOMER_READS = {
    "kehu.sales.pipeline.selectors.last_activity":
        "annotates a queryset of opportunities the caller already scoped to the user",
    "kehu.sales.pipeline.selectors.with_weighted":
        "annotates a queryset of opportunities the caller already scoped to the user",
    "kehu.sales.pipeline.selectors.month_bounds": "the first days of a month; reads nothing",
    "kehu.accounts.selectors.acting_user":
        "finds the user a command acts as (--as USERNAME); reads no customer",
    "kehu.analytics.selectors.latest_refresh":
        "the latest value refresh run: its date, counts and fitted models, no customer's",
    "kehu.analytics.selectors.is_stale":
        "compares a refresh run's date with the firm's limit",
    "kehu.customers.selectors.value_choices":
        "the value segments and quadrants a filter offers (labels); reads no customer",
    "kehu.customers.selectors.sort_key":
        "adds the sort key to a queryset the selectors scope; reads nothing",
    "kehu.customers.selectors.stale_cutoff":
        "a date computed from the settings; reads nothing",
    "kehu.customers.selectors.stale_q":
        "builds a query condition for querysets the selectors scope; reads nothing",
    "kehu.customers.selectors.is_stale":
        "compares the dates of a customer the caller already holds; reads nothing",
    "kehu.customers.selectors.value_scores":
        "the scores of a customer the caller already holds (from a scoped list or card)",
}


def _selector_modules() -> list[str]:
    return sorted(".".join(path.relative_to(SRC.parent).with_suffix("").parts)
                  for path in SRC.rglob("selectors.py"))


def _public_functions(module_name: str) -> dict[str, object]:
    module = importlib.import_module(module_name)
    return {f"{module_name}.{name}": value for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module_name
            and not name.startswith("_")}


def takes_the_user(function) -> bool:
    """The first parameter is the user (positional, so every caller passes it)."""
    parameters = list(inspect.signature(function).parameters.values())
    return bool(parameters) and parameters[0].name == "user" and parameters[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def test_the_check_finds_the_selector_modules():
    modules = _selector_modules()
    assert {"kehu.customers.selectors", "kehu.analytics.selectors",
            "kehu.sales.selectors"} <= set(modules)


def test_every_selector_takes_the_user():
    without_user = {name for module in _selector_modules()
                    for name, function in _public_functions(module).items()
                    if not takes_the_user(function)}
    unexplained = sorted(without_user - set(NOT_CUSTOMER_READS))
    assert not unexplained, (
        "these selectors do not take the user as their first argument; scope them with "
        "restrict(queryset, user, action), or, if they read no customer data, add them to "
        f"NOT_CUSTOMER_READS with the reason: {unexplained}")


def test_every_exception_is_still_needed():
    everything = {name: function for module in _selector_modules()
                  for name, function in _public_functions(module).items()}
    stale = sorted(name for name in NOT_CUSTOMER_READS
                   if name not in everything or takes_the_user(everything[name]))
    assert not stale, f"remove these from NOT_CUSTOMER_READS: {stale}"


def test_the_check_tells_a_scoped_selector_from_an_unscoped_one():
    def referrals_of(customer):
        return customer

    def scoped_referrals_of(user, customer):
        return customer

    def keyword_user(*, user):
        return user

    assert not takes_the_user(referrals_of)
    assert takes_the_user(scoped_referrals_of)
    assert not takes_the_user(keyword_user)
