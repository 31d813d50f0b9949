"""The value refresh: from transactions and activities to every customer's value, standing,
lifecycle state and the tasks their owners should do about it.

    refresh_values(user, progress)  ->  ValueRefresh

Steps: read the base into arrays (analytics.data); fit the purchase model (BG/NBD, MBG/NBD or
Pareto/NBD, the one with the best holdout forecast unless pinned) and Gamma-Gamma (kehu.value);
score every customer (realised, current, potential, influence value, profit CLV, P(alive),
RFM, rank);
derive lifecycle states, segments and quadrants (analytics.rules); replay month ends for the
equity trend and the Markov migration (analytics.replay); write it in short transactions, a
batch of customers each; turn segment moves into tasks. A model that cannot be fitted is a
warning, not a failure: realised value, RFM and the rest are still computed, and potential
value stays empty.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.accounts.models import User
from kehu.analytics import affinity, data, intentions, rules, sources
from kehu.analytics.models import (
    ActivityCost,
    CustomerValue,
    CustomerValueSnapshot,
    EquitySnapshot,
    LoyaltyStatement,
    Referral,
    RefreshStatus,
    SegmentAction,
    ValueRefresh,
    ValueSettings,
)
from kehu.analytics.replay import History, firm_margin_of, month_ends
from kehu.audit.services import record
from kehu.core import memory
from kehu.core.bulk import copy_columns, plain_values, write_rows
from kehu.core.errors import ServiceError
from kehu.customers import invariants
from kehu.customers.models import (
    LifecycleState,
    Transaction,
    TransitionSource,
)
from kehu.tasks.models import TaskKind, TaskPriority
from kehu.tasks.services import Candidate, NewTask, open_capped_tasks
from kehu.value import (
    ActiveSchedules,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    TransactionModel,
    ValueModelError,
    credible_margin,
    month_length,
    profit_clv_details,
)
from kehu.value.markov import ABSENT
from kehu.value.selection import compare, fit_chosen, fit_in_order

logger = logging.getLogger(__name__)

TIME_UNIT = "W"
HISTORY_MONTHS = 24
# Buyers from which the replay scores two month ends at once: on a smaller base the threads
# would cost more than they save.
REPLAY_THREADS_FROM = 200_000
# Buyers the replay scores together within a month end: parts of 250,000 peaked 50 MB
# higher at a million buyers, and the whole base at once 280 MB higher.
REPLAY_PART = 100_000
AT_RISK_TOP_SHARE = 0.2
AT_RISK_DROP = 0.1
WRITE_CHUNK = 5000
ROW_CHUNK = 50_000
# A purchase model chosen by a comparison is kept by the refreshes after it for this many
# days, while the buyers and purchase days change by at most this share (kept_choice).
KEEP_CHOICE_DAYS = 28
KEEP_CHOICE_CHANGE = 0.05
# States a person sets by hand that behaviour does not override: a non-customer stays one.
MANUAL_STICKY = {LifecycleState.NON_CUSTOMER}
# Without purchases, behaviour says nothing: potential and target stay as set by hand.
STATE_VALUES = {"first": LifecycleState.FIRST_PURCHASE, "repeat": LifecycleState.REPEAT_PURCHASE,
                "loyal": LifecycleState.LOYAL, "churned": LifecycleState.CHURNED}

Report = Callable[[int, int | None, str], None]
# ValueSettings.model -> the purchase model it pins ("auto": chosen by the holdout).
PURCHASE_MODELS: dict[str, type[TransactionModel]] = {
    "bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "pareto-nbd": ParetoNBDModel}

PURCHASE_MODELS_BY_NAME = {m.model_name: m for m in PURCHASE_MODELS.values()}


@dataclass
class Models:
    purchases: TransactionModel | None
    gamma_gamma: GammaGammaModel | None
    # P(alive) of customers who bought once, when the purchase model holds them alive for
    # ever (BG/NBD): MBG/NBD fitted on the same purchases (see one_time_model).
    one_time: TransactionModel | None = None


def _no_report(done: int, total: int | None, message: str) -> None:
    pass


def refresh_values(user: User | None, progress=None, *, as_of: dt.date | None = None,
                   via: str = "web") -> ValueRefresh:
    """Score the whole base as of `as_of` (default today). `progress` is a kehu.core.jobs
    Progress or None."""
    report: Report = (lambda done, total, message: progress.report(done, total, message)) \
        if progress is not None else _no_report
    settings = ValueSettings.current()
    as_of = as_of or timezone.localdate()
    check_as_of(as_of)
    run = ValueRefresh.objects.create(as_of=as_of, started_by=user,
                                      horizon_months=settings.horizon_months,
                                      monthly_discount=settings.monthly_discount)
    started = time.monotonic()
    refresh = _Refresh(run, settings, report)
    try:
        refresh.run()
    except Exception as exc:
        error = str(exc)
        if refresh.written:
            # The batches written before the failure stand (each one whole): those customers
            # show this refresh's scores, the others the last one's, until the next refresh.
            error = _("%(error)s (the scores of %(done)s customers were written before it "
                      "failed; the next refresh rewrites them all)") % {
                "error": error, "done": f"{refresh.written:,}"}
        ValueRefresh.objects.filter(pk=run.pk).update(
            status=RefreshStatus.FAILED, error=error[:2000], finished_at=timezone.now(),
            seconds=time.monotonic() - started)
        raise
    run.refresh_from_db()
    ValueRefresh.objects.filter(pk=run.pk).update(seconds=time.monotonic() - started)
    run.seconds = time.monotonic() - started
    # How long the longest of the write's transactions held the database (bench/).
    run.longest_write = max(refresh.write_seconds, default=0.0)
    detail = {"refresh": run.pk, "as_of": as_of.isoformat(), "customers": run.customers,
              "seconds": round(run.seconds, 1), "warnings": [w["code"] for w in run.warnings]}
    if refresh.skipped:
        detail["skipped"] = refresh.skipped
    record(user, "value.refresh", via=via, detail=detail)
    store_dashboard(run)
    return run


def store_dashboard(run: ValueRefresh) -> None:
    """The refresh's last step: the value dashboard's figures of every scope, stored so
    that /value/ reads them instead of adding up the base (kehu.analytics.dashboard)."""
    from kehu.analytics import dashboard

    dashboard.store_after_refresh(run)


def check_as_of(as_of: dt.date) -> None:
    """Refuse a day the scores cannot be about: a refresh rewrites every customer's scores
    and lifecycle state, so a mistyped year must not pass for a forecast."""
    today = timezone.localdate()
    if as_of > today:
        raise ServiceError(_("Scores can be computed as of today (%(today)s) or an earlier "
                             "day, not %(day)s: later purchases are not known yet.")
                           % {"today": today.isoformat(), "day": as_of.isoformat()})
    first = Transaction.objects.order_by("date").values_list("date", flat=True).first()
    if first is not None and as_of < first:
        raise ServiceError(_("Nobody had bought anything by %(day)s: the first purchase is on "
                             "%(first)s.") % {"day": as_of.isoformat(),
                                              "first": first.isoformat()})


def _within(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of `ids` are among `sorted_ids`."""
    if not sorted_ids.size:
        return np.zeros(ids.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), sorted_ids.size - 1)
    return sorted_ids[pos] == ids


class _Refresh:
    steps = 8
    skipped = 0  # customers scored but gone (deleted, merged) by the time of the write
    written = 0  # customers whose scores are written (batch by batch)
    write_seconds: tuple[float, ...] = ()  # each write transaction's duration
    schedules: ActiveSchedules | None = None

    def __init__(self, run: ValueRefresh, settings: ValueSettings, report: Report):
        self.run_row, self.settings, self.report = run, settings, report
        self.warnings: list[dict] = []
        self._shared = threading.Lock()  # warnings and schedules, for the replay's threads
        self.as_of = run.as_of
        self.as_of_day = data.day_number(self.as_of)
        self.since = self.as_of - dt.timedelta(days=365)
        self.state_rules = rules.StateRules(
            float(settings.churn_p_alive), settings.churn_inactive_days,
            float(settings.loyal_min_index), settings.loyal_min_purchase_days,
            settings.loyal_min_tenure_days)

    def step(self, n: int, message: str) -> None:
        # Each step's temporary arrays go back to the system before the next step's come:
        # at a million customers the refresh otherwise peaks about 0.5 GiB higher.
        memory.give_back()
        self.report(n, self.steps, message)

    def warn(self, code: str, message: str) -> None:
        self.warnings.append({"code": code, "message": message})

    def warn_once(self, code: str, message: str) -> None:
        """For what may go wrong at every month end the replay scores: said once (month
        ends are scored on two threads)."""
        with self._shared:
            if not any(w["code"] == code for w in self.warnings):
                self.warn(code, message)

    # -- reading ------------------------------------------------------------------------------

    def run(self) -> None:
        self.step(0, _("Reading customers and transactions"))
        base = self.read_base()
        memory.give_back()  # the rows read as Python objects, before the purchases come
        purchases, realised = data.transactions(self.as_of, self.since)
        memory.give_back()
        history = History.of(purchases)
        if not _within(history.buyer, base["id"]).all():
            # Bought by a customer created after the base was read: not scored this time.
            history = History.of(data.only_customers(purchases, base["id"]))
        del purchases
        now = history.at(self.as_of_day)
        self.costs = self.read_costs(base["id"])
        # Expected cost to serve follows expected purchases: each buyer's cost to serve so
        # far per purchase day (kept for the month ends the replay values as well).
        spent = self.costs["cost_to_serve"][np.searchsorted(base["id"], history.buyer)]
        self.cost_per_purchase = np.divide(spent, now.purchase_days, out=np.zeros(spent.size),
                                           where=now.purchase_days > 0)
        self.step(1, _("Fitting the value models"))
        models = self.fit(now, history)
        models.one_time = self.one_time_model(now, models)
        self.step(2, _("Scoring customers"))
        scores = self.score(base, history, now, realised, models)
        del now, realised
        self.step(3, _("Replaying the history month by month"))
        equity_rows, migration = self.replay(base, history, models, scores)
        # The purchase days (about 350 MB at a million customers) are not needed to write.
        del history
        affinity.rebuild(self.as_of)  # what products go together, for the cards' offers
        self.step(4, _("Writing scores"))
        base, scores = self.present(base, scores)
        self.write(base, scores, models, equity_rows, migration)
        self.step(8, _("Done"))

    def present(self, base, s) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The customers of `base` that still exist as the write begins, ranked afresh.

        Reading and scoring a large base takes minutes, and customers are deleted, merged
        and erased meanwhile. A customer that is gone (deleted, or merged into another) is
        left out: no scores are written for it. One created meanwhile is scored by the next
        refresh. The write itself goes in batches (write_batch), each of which checks its
        customers again in its own transaction (still_present)."""
        now = data.present_customers(lock=False)
        ids = base["id"]
        keep = _within(ids, now.id)
        if not keep.all():
            n = ids.size
            assert all(v.shape[:1] == (n,) for v in (*base.values(), *s.values()))
            base = {key: values[keep] for key, values in base.items()}
            s = {key: values[keep] for key, values in s.items()}
            self.rank(s)  # ranks stay 1..n
            self.skipped = n - int(keep.sum())
        return base, s

    @staticmethod
    def rank(s) -> None:
        order = np.argsort(-s["value"], kind="stable")
        s["rank"] = np.empty(order.size, dtype=np.int64)
        s["rank"][order] = np.arange(1, order.size + 1)
        s["percentile"] = 100.0 * (1 - (s["rank"] - 1) / max(order.size, 1))

    def still_present(self, ids: np.ndarray) -> data.Present:
        """Those of `ids` (sorted) that exist now, with their owner, read in a batch's write
        transaction: the owner as it is now, so that a task goes to today's owner; a state
        set meanwhile (by hand, or by a merge) is kept by apply_states, which moves only
        customers still in the state it read. data.present_customers says why nothing can
        vanish between this read and the batch's commit."""
        return data.present_customers(int(ids[0]), int(ids[-1]))

    def read_base(self) -> dict[str, np.ndarray]:
        return data.customer_base()

    # -- models ------------------------------------------------------------------------------

    def fit(self, now, history: History) -> Models:
        buyers = now.present
        repeaters = now.frequency > 0
        self.run_row.buyers, self.run_row.repeat_buyers = int(buyers.sum()), int(repeaters.sum())
        bg = gg = None
        try:
            bg = self.fit_purchases(now, history)
        except ValueModelError as exc:
            self.warn("bgnbd_failed", _("The purchase model could not be fitted, so P(alive), "
                                        "expected purchases and CLV are left empty: %(why)s")
                      % {"why": exc})
        if bg is not None:
            try:
                gg = GammaGammaModel().fit(now.frequency[buyers], now.monetary[buyers])
            except ValueModelError as exc:
                self.warn("gamma_gamma_failed", _(
                    "The spend model could not be fitted, so CLV and potential value are left "
                    "empty; P(alive) and expected purchases come from the purchase model alone "
                    "and are kept: %(why)s") % {"why": exc})
        if bg is not None:
            self.check_fit(bg, now)
        return Models(bg, gg)

    def fit_purchases(self, now, history: History) -> TransactionModel:
        """The purchase model: BG/NBD, MBG/NBD and Pareto/NBD fitted on the history up to a
        calibration end and compared on what happened after it (kehu.value.selection); the
        best, or the one the settings pin, is fitted again on the whole history. The
        comparison is kept on the refresh, and its choice is kept by the next refreshes
        while the purchases change little (kept_choice). Raises ValueModelError if no model
        fits."""
        pinned_class = PURCHASE_MODELS.get(self.settings.model)
        pinned = pinned_class.model_name if pinned_class is not None else None
        fallback = pinned or BetaGeoModel.model_name
        basis = {"as_of": self.as_of.isoformat(), "buyers": int(history.buyer.size),
                 "purchase_days": int(history.day.size)}
        kept = self.kept_choice(basis, pinned)
        if kept is not None:
            return self.fit_kept(kept, now)
        selection, why = None, None
        try:
            first = history.day[history.start]
            repeat = np.ones(history.day.size, dtype=bool)
            repeat[history.start] = False
            who = np.repeat(np.arange(history.buyer.size), history.n)[repeat]
            selection = compare(first, who, history.day[repeat], self.as_of_day,
                                pinned=pinned)
            why = selection.error if selection.chosen is None else None
        except ValueModelError as exc:
            why = str(exc)
        buyers = now.present
        try:
            model, failures = fit_chosen(selection, now.frequency[buyers],
                                         now.recency[buyers], now.T[buyers], default=fallback)
        finally:
            self.run_row.model_selection = {
                **(selection.to_dict() if selection is not None else
                   {"chosen": None, "pinned": pinned is not None, "error": why,
                    "candidates": {}}),
                "basis": basis, "kept_from": None, "used": None}
        if why is not None:  # when no model fits at all, the caller says so instead
            self.warn("model_selection_failed", _(
                "The purchase models could not be compared on a holdout, so %(model)s is "
                "used: %(why)s") % {"model": model.label, "why": why})
        return self.used(model, failures)

    def used(self, model: TransactionModel, failures: list[tuple[str, str]]
             ) -> TransactionModel:
        """Record the purchase model fitted on the whole history, and warn when the one
        chosen first could not be."""
        if failures:
            self.warn("chosen_model_failed", _(
                "%(chosen)s could not be fitted on the whole history, so %(used)s is used: "
                "%(why)s") % {"chosen": PURCHASE_MODELS_BY_NAME[failures[0][0]].label,
                              "used": model.label, "why": failures[0][1]})
        self.run_row.model_selection["used"] = model.model_name
        return model

    def kept_choice(self, basis: dict, pinned: str | None) -> tuple[dict, dict, int] | None:
        """The comparison of the last finished refresh, its purchase model's fit and its id,
        when this refresh may keep its choice instead of comparing the models again.

        Comparing fits Pareto/NBD on a sample of up to 25,000 customers, most of a repeat
        refresh's time, and on purchases that changed little it chooses what it chose
        before (it samples with a fixed seed). So the choice stands while the setting that
        pins a model is unchanged, the comparison is at most KEEP_CHOICE_DAYS old, and the
        buyers and purchase days it was made on have changed by at most KEEP_CHOICE_CHANGE
        (an import, a merge of many customers, a month of new purchases: compared again).
        The drift is measured against the refresh that compared, not the last one, so that
        small changes add up."""
        last = (ValueRefresh.objects.filter(status=RefreshStatus.DONE)
                .exclude(pk=self.run_row.pk).order_by("-started_at", "-id")
                .only("model_selection", "fit").first())
        selection = (last.model_selection or {}) if last is not None else {}
        then = selection.get("basis")
        if not then or selection.get("chosen") is None or selection.get("error"):
            return None
        if bool(selection.get("pinned")) != (pinned is not None) \
                or (pinned is not None and selection["chosen"] != pinned):
            return None
        age = (self.as_of - dt.date.fromisoformat(then["as_of"])).days
        if not 0 <= age <= KEEP_CHOICE_DAYS:
            return None
        for key in ("buyers", "purchase_days"):
            if abs(basis[key] - then[key]) > KEEP_CHOICE_CHANGE * max(then[key], 1):
                return None
        return selection, (last.fit or {}).get("purchases") or {}, last.pk

    def fit_kept(self, kept: tuple[dict, dict, int], now) -> TransactionModel:
        """The model a former comparison chose (kept_choice), fitted on the whole history
        from where the last refresh's fit ended; the next best of that comparison if it
        cannot be fitted."""
        selection, last_fit, last_pk = kept
        candidates = selection.get("candidates") or {}
        order = [selection["chosen"]]
        if not selection.get("pinned"):
            ranked = sorted((c["holdout_error"], name) for name, c in candidates.items()
                            if c.get("holdout_error") is not None)
            order += [name for _err, name in ranked if name != selection["chosen"]]
        starts = {name: c["params"] for name, c in candidates.items() if c.get("params")}
        if last_fit.get("model") in order and last_fit.get("params"):
            starts[last_fit["model"]] = last_fit["params"]
        buyers = now.present
        try:
            model, failures = fit_in_order(order, starts, now.frequency[buyers],
                                           now.recency[buyers], now.T[buyers])
        finally:
            self.run_row.model_selection = {
                **selection, "kept_from": selection.get("kept_from") or last_pk,
                "used": None}
        return self.used(model, failures)

    def check_fit(self, bg: TransactionModel, now) -> None:
        """In-sample check: the repeat purchases the model expects over each buyer's own
        time with us against those made. A model far off misleads every figure after it."""
        buyers = now.present
        # Customers' ages repeat (days / 7): the expectation of each distinct one, counted.
        ages, counts = np.unique(now.T[buyers], return_counts=True)
        try:
            expected = float(np.dot(bg.expected_purchases_new(ages), counts))
        except ValueModelError as exc:
            self.warn("poor_fit", _("The purchase model's predictions cannot be computed: "
                                    "%(why)s") % {"why": exc})
            return
        actual = float(np.sum(now.frequency[buyers]))
        if actual > 0 and abs(expected - actual) / actual > 0.1:
            self.warn("poor_fit", _("The purchase model fits poorly: it expects %(expected)s "
                                    "repeat purchases where customers made %(actual)s. Treat "
                                    "P(alive) and CLV with care.")
                      % {"expected": f"{expected:,.0f}", "actual": f"{actual:,.0f}"})

    def one_time_model(self, now, models: Models) -> TransactionModel | None:
        """BG/NBD lets a customer drop out only after a repeat purchase, so a customer who
        bought once stays alive (P(alive) = 1) however long they stay away, and the state
        would contradict the score. Their P(alive) comes from MBG/NBD instead: the same
        model with a chance to drop out right after the first purchase, fitted on the same
        purchases. Models whose P(alive) already falls for them need nothing."""
        if type(models.purchases) is not BetaGeoModel:
            return None
        buyers = now.present
        try:
            return ModifiedBetaGeoModel().fit(now.frequency[buyers], now.recency[buyers],
                                              now.T[buyers])
        except ValueModelError as exc:
            self.warn("one_time_failed", _(
                "P(alive) of customers who bought once could not be estimated, so theirs is "
                "left empty and their state follows the days without a purchase: %(why)s")
                % {"why": exc})
            return None

    def potential(self, models: Models, snap, cost_per_purchase: np.ndarray,
                  firm_margin: float | None = None, failed: list[str] | None = None
                  ) -> dict[str, np.ndarray]:
        """P(alive), expected purchases over the horizon, CLV (lifetime and next 12 months)
        and the margin it used, of the buyers in `snap`, whose cost to serve per purchase is
        `cost_per_purchase`. Margins are shrunk towards `firm_margin` (by default the
        margin of the buyers in `snap`: the firm's, unless `snap` is a part of it).

        CLV is discounted expected profit: expected purchases × expected spend × the
        customer's gross margin (shrunk towards the firm's, kehu.value.credible_margin),
        less the expected cost to serve (cost to serve per purchase so far × expected
        purchases). Each figure is computed on its own: the purchase model's figures never
        depend on the spend model, so a spend model that fails (or a CLV that overflows)
        leaves P(alive) and expected purchases in place and only CLV empty. The figures
        left empty are named in `failed`, when given."""

        def fail(code: str, message: str) -> None:
            if failed is not None:
                failed.append(code)
            self.warn_once(code, message)

        n = snap.present.size
        out = {"p_alive": np.full(n, np.nan), "purchases": np.full(n, np.nan),
               "clv": np.full(n, np.nan), "clv_12m": np.full(n, np.nan),
               "margin": np.full(n, np.nan)}
        buyers = snap.present
        if models.purchases is None or not buyers.any():
            return out
        f, r, t = snap.frequency[buyers], snap.recency[buyers], snap.T[buyers]
        try:
            out["p_alive"][buyers] = models.purchases.p_alive(f, r, t)
        except ValueModelError as exc:
            fail("p_alive_failed", _("The purchase model gives no usable P(alive), "
                                     "so P(alive) is left empty: %(why)s") % {"why": exc})
        if type(models.purchases) is BetaGeoModel:
            once = np.flatnonzero(buyers)[f == 0]
            out["p_alive"][once] = np.nan
            if models.one_time is not None and once.size:
                try:
                    out["p_alive"][once] = models.one_time.p_alive(
                        np.zeros(once.size), np.zeros(once.size), snap.T[once])
                except ValueModelError as exc:
                    fail("one_time_failed", _(
                        "P(alive) of customers who bought once could not be estimated, so "
                        "theirs is left empty and their state follows the days without a "
                        "purchase: %(why)s") % {"why": exc})
        clv_error = None
        if models.gamma_gamma is not None:
            if firm_margin is None:
                firm_margin = firm_margin_of(snap.revenue[buyers], snap.profit[buyers])
            margin = credible_margin(snap.profit[buyers], snap.revenue[buyers],
                                     snap.purchase_days[buyers], firm_margin)
            try:
                with self._shared:
                    if self.schedules is None or self.schedules.model is not models.purchases:
                        # Kept across the month ends the replay values: they share most of
                        # their (frequency, age).
                        self.schedules = ActiveSchedules(
                            models.purchases, self.settings.horizon_months,
                            float(self.settings.monthly_discount), TIME_UNIT)
                    schedules = self.schedules
                details = profit_clv_details(
                    models.purchases, models.gamma_gamma, f, r, t, snap.monetary[buyers],
                    margin, cost_per_purchase[buyers],
                    months=self.settings.horizon_months,
                    monthly_discount=float(self.settings.monthly_discount),
                    time_unit=TIME_UNIT, schedules=schedules)
            except ValueModelError as exc:
                clv_error = exc
            else:
                out["clv"][buyers] = details["clv"]
                out["clv_12m"][buyers] = details["clv_near"]
                out["margin"][buyers] = margin
                out["purchases"][buyers] = details["predicted_purchases"]
                return out
        try:
            horizon = self.settings.horizon_months * month_length(TIME_UNIT)
            out["purchases"][buyers] = models.purchases.expected_purchases(horizon, f, r, t)
        except ValueModelError as exc:
            fail("purchases_failed", _(
                "The purchase model gives no usable expected purchases, so expected "
                "purchases, CLV and potential value are left empty: %(why)s") % {"why": exc})
            return out
        if clv_error is not None:
            fail("clv_failed", _(
                "CLV could not be computed, so CLV and potential value are left empty; "
                "P(alive) and expected purchases come from the purchase model alone and are "
                "kept: %(why)s") % {"why": clv_error})
        return out

    # -- scoring -----------------------------------------------------------------------------

    def score(self, base, history: History, now, realised: data.Realised, models: Models
              ) -> dict[str, np.ndarray]:
        ids = base["id"]
        n = ids.size
        s: dict[str, np.ndarray] = {}
        place = np.searchsorted(ids, history.buyer)  # every buyer is a customer (FK)

        def on_base(values, fill=0.0):
            out = np.full(n, fill, dtype=float)
            out[place] = values
            return out

        s["purchase_days"] = on_base(now.purchase_days).astype(np.int64)
        bought = s["purchase_days"] > 0
        s["first_day"] = on_base(np.where(now.present, now.first_day, 0)).astype(np.int64)
        s["last_day"] = on_base(np.where(now.present, now.last_day, 0)).astype(np.int64)
        pot = self.potential(models, now, self.cost_per_purchase)
        for key in ("p_alive", "purchases", "clv", "clv_12m", "margin"):
            s[key] = on_base(pot[key], np.nan)

        s["revenue"] = data.spread(realised.customer, realised.revenue, ids)
        s["gross_profit"] = data.spread(realised.customer, realised.gross_profit, ids)
        s["revenue_12m"] = data.spread(realised.customer, realised.revenue_recent, ids)
        s["gross_profit_12m"] = data.spread(realised.customer, realised.gross_profit_recent,
                                            ids)
        s.update(self.costs)
        # Realised value deducts the cost to serve only; relationship investment (visits) is
        # shown beside it.
        s["net_contribution"] = s["gross_profit"] - s["cost_to_serve"]
        s["net_contribution_12m"] = s["gross_profit_12m"] - s["cost_to_serve_12m"]
        # Potential value is the profit still to come: the CLV itself.
        s["potential_value"] = s["clv"]
        s["influence_value"] = self.influence(ids, s["net_contribution"],
                                              np.nan_to_num(s["potential_value"]))

        # Current value, one definition everywhere (segments, whale curve, rank, the
        # lifecycle's "top by value", at risk): net contribution of the last 12 months.
        value = s["net_contribution_12m"]
        s["value"] = value
        order = np.argsort(-value, kind="stable")
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(1, n + 1)
        s["rank"] = rank
        s["percentile"] = 100.0 * (1 - (rank - 1) / max(n, 1))

        days_since = np.where(bought, self.as_of_day - s["last_day"], 0)
        mean_spend = np.divide(s["revenue"], s["purchase_days"], out=np.zeros(n),
                               where=bought)
        s["rfm_r"] = rules.quintiles(-days_since, bought)
        s["rfm_f"] = rules.quintiles(s["purchase_days"], bought)
        s["rfm_m"] = rules.quintiles(mean_spend, bought)

        cfg = self.settings
        tenure = np.where(bought, self.as_of_day - s["first_day"], 0)
        self.said = self.statements(ids)
        self.referred = self.referrals_made(ids)
        loyalty = rules.loyalty(s["purchase_days"], tenure, days_since, self.referred,
                                self.said["wallet"], self.said["buy_again"],
                                self.said["recommend"])
        for key, values in loyalty.items():
            s[f"loyalty_{key}"] = values
        s["overdue"] = rules.overdue(s["purchase_days"], tenure, days_since)
        s["derived"] = rules.derive_states(s["purchase_days"], tenure, s["p_alive"],
                                           s["loyalty_index"], self.state_rules,
                                           days_since_last=days_since)
        s["segment"] = rules.segments(s["net_contribution_12m"],
                                      np.nan_to_num(s["potential_value"], nan=0.0), bought,
                                      float(cfg.high_current_share),
                                      float(cfg.high_potential_share))
        s["quadrant"] = rules.quadrants(
            s["revenue_12m"], s["loyalty_index"],
            s["derived"] == rules.STATES.index("churned"), bought,
            float(cfg.large_volume_share), float(cfg.quadrant_loyal_index))
        s["lookalike"] = self.lookalike(base, s, bought)
        return s

    def read_costs(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """Each customer's activities at their kinds' unit costs, lifetime and in the last
        12 months, split into cost to serve and relationship investment (ActivityCost)."""
        tz = timezone.get_current_timezone()
        end = dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time(), tzinfo=tz)
        out = {}
        rows = list(ActivityCost.objects.all())
        for name, investment in (("cost_to_serve", False), ("relationship_investment", True)):
            costs = data.service_cost(
                {c.kind: float(c.unit_cost) for c in rows if c.investment == investment},
                end, end - dt.timedelta(days=365))
            out[name] = data.spread(costs.customer, costs.cost, ids)
            out[f"{name}_12m"] = data.spread(costs.customer, costs.cost_recent, ids)
        # Hours logged elsewhere (kehu.analytics.sources), at the hourly cost of their kind.
        rates = {c.kind: (float(c.unit_cost), c.investment) for c in rows}
        for kind, source in sources.HOURS_SOURCES.items():
            rate, investment = rates.get(kind, (0.0, False))
            if not rate:
                continue
            name = "relationship_investment" if investment else "cost_to_serve"
            customer, hours, recent = source.hours(end, end - dt.timedelta(days=365))
            out[name] = out[name] + rate * data.spread(customer, hours, ids)
            out[f"{name}_12m"] = out[f"{name}_12m"] + rate * data.spread(customer, recent, ids)
        return out

    def statements(self, ids) -> dict[str, np.ndarray]:
        """Each customer's latest loyalty statement (LoyaltyStatement): intention to buy
        again and to recommend (0-10) and share of wallet (0-1), NaN where not stated. The
        intentions stated elsewhere (intentions.sources(): the satisfaction surveys) count
        where they are newer than the statement."""
        out = {key: np.full(ids.size, np.nan) for key in ("buy_again", "recommend", "wallet")}
        rows = (LoyaltyStatement.objects.order_by("customer_id", "-stated_on", "-id")
                .values_list("customer_id", "stated_on", "buy_again", "recommend",
                             "wallet_share"))
        seen = set()
        stated_on: dict[tuple[str, int], dt.date] = {}
        for pk, on, buy_again, recommend, wallet in rows.iterator(chunk_size=5000):
            if pk in seen:
                continue
            seen.add(pk)
            i = np.searchsorted(ids, pk)
            if i >= ids.size or ids[i] != pk:
                continue
            for key, value, scale in (("buy_again", buy_again, 1), ("recommend", recommend, 1),
                                      ("wallet", wallet, 100)):
                if value is not None:
                    out[key][i] = value / scale
                    stated_on[(key, i)] = on
        for source in intentions.sources():
            for pk, on, buy_again, recommend in source():
                i = np.searchsorted(ids, pk)
                if i >= ids.size or ids[i] != pk:
                    continue
                for key, value in (("buy_again", buy_again), ("recommend", recommend)):
                    if value is not None and on >= stated_on.get((key, i), dt.date.min):
                        out[key][i] = value
                        stated_on[(key, i)] = on
        return out

    def referrals_made(self, ids) -> np.ndarray:
        """How many customers each customer brought to us (Referral)."""
        referrers = np.asarray(list(Referral.objects.values_list("referrer_id", flat=True)),
                               dtype=np.int64)
        referrers = referrers[_within(referrers, ids)]
        return np.bincount(np.searchsorted(ids, referrers), minlength=ids.size).astype(float)

    def influence(self, ids, realised, potential) -> np.ndarray:
        """A customer's influence value: the realised and potential value of the customers
        they brought (direct referrals)."""
        pairs = np.asarray(list(Referral.objects.values_list("referrer_id", "referred_id")),
                           dtype=np.int64).reshape(-1, 2)
        out = np.zeros(ids.size)
        # Referrals recorded since the base was read may name customers it does not have.
        pairs = pairs[_within(pairs[:, 0], ids) & _within(pairs[:, 1], ids)]
        if pairs.size:
            who = np.searchsorted(ids, pairs[:, 0])
            whom = np.searchsorted(ids, pairs[:, 1])
            np.add.at(out, who, realised[whom] + potential[whom])
        return out

    def lookalike(self, base, s, bought) -> np.ndarray:
        """Prospects (potential, target) are compared with loyal customers on what is known
        before a sale; first-time buyers on that and on their early behaviour."""
        loyal = s["derived"] == rules.STATES.index("loyal")
        firm = np.column_stack([base[k] for k in ("nature", "service_group", "industry",
                                                  "size", "province")])
        prospects = np.isin(base["state"], [LifecycleState.POTENTIAL, LifecycleState.TARGET]) \
            & ~bought
        out = rules.lookalike(firm, loyal, prospects)
        first_spend = np.zeros(bought.size)
        first_spend[bought] = s["revenue"][bought] / np.maximum(s["purchase_days"][bought], 1)
        spend_band = rules.quintiles(first_spend, bought)
        newcomers = s["derived"] == rules.STATES.index("first")
        early = rules.lookalike(np.column_stack([firm, spend_band]), loyal, newcomers)
        out[newcomers] = early[newcomers]
        return out

    # -- history ----------------------------------------------------------------------------

    def replay(self, base, history: History, models: Models, s) -> tuple[list, dict]:
        """Month-end standings with today's models: equity by month, owner and segment, and
        the moves between lifecycle states that estimate the Markov matrix."""
        ids = base["id"]
        if not history.buyer.size:
            return [], {}
        place = np.searchsorted(ids, history.buyer)
        owner, team = base["owner"][place], base["team"][place]
        # What customers said and whom they brought is known as of today only: the month
        # ends use it with each month's own purchase behaviour.
        said = {key: values[place] for key, values in self.said.items()}
        referred = self.referred[place]
        segment = s["segment"][place]
        dates = month_ends(int(history.day.min()), self.as_of, HISTORY_MONTHS)
        k = len(rules.STATES)
        # Rows go by each owner's team as of today, for every month.
        team_of = {int(o): int(t) or None for o, t in zip(owner, team, strict=True)}
        groups, group_index = np.unique(np.column_stack([owner, segment + 1]), axis=0,
                                        return_inverse=True)
        group_index = group_index.ravel()
        language = translation.get_language()

        def standing(date: dt.date) -> tuple:
            """Each buyer's state, CLV, presence and profit at the month end `date`."""
            with translation.override(language):  # the warnings it may give
                day = data.day_number(date)
                # The month end is counted for all buyers, then valued a part of them at a
                # time: each figure is a buyer's own (but for the firm's margin), and the
                # temporaries of a million at once, two month ends in flight, would raise
                # the refresh's peak by about 0.3 GiB.
                count = history.counts_at(day)
                revenue, profit = history.totals_at(count)
                margin = firm_margin_of(revenue, profit)

                def value(part: int, failed: list[str]) -> tuple[np.ndarray, np.ndarray]:
                    state = np.empty(count.size, dtype=np.int64)
                    clv = np.empty(count.size)
                    for lo in range(0, count.size, part):
                        at = slice(lo, lo + part)
                        snap = history.at(day, at, count[at], (revenue[at], profit[at]))
                        pot = self.potential(models, snap, self.cost_per_purchase[at], margin,
                                             failed)
                        tenure = (day - snap.first_day) * snap.present
                        since = (day - snap.last_day) * snap.present
                        index = rules.loyalty(snap.purchase_days, tenure, since, referred[at],
                                              said["wallet"][at], said["buy_again"][at],
                                              said["recommend"][at])["index"]
                        state[at] = rules.derive_states(
                            snap.purchase_days, tenure, pot["p_alive"], index,
                            self.state_rules, days_since_last=since)
                        clv[at] = np.nan_to_num(pot["clv"])
                        del snap, pot, tenure, since, index
                    return state, clv

                failed: list[str] = []
                state, clv = value(REPLAY_PART, failed)
                if failed and count.size > REPLAY_PART:
                    # A model that fails for some buyers leaves its figure empty for the
                    # whole month end, as for today's scores: all buyers at once, then.
                    state, clv = value(count.size, [])
                state[state == rules.NO_PURCHASE] = ABSENT
                return state, clv, count > 0, profit

        # Month ends are worked out two at a time on a big base (each is array work that
        # lets go of the GIL) and added up in order, as each is ready.
        pool = ThreadPoolExecutor(2) if history.buyer.size >= REPLAY_THREADS_FROM else None
        standings = pool.map(standing, dates) if pool is not None else map(standing, dates)
        try:
            rows, moves = self.add_up(dates, standings, group_index, groups, team_of)
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        total = moves.sum(axis=0).reshape(k, k)
        return rows, {"states": list(rules.STATES), "moves": total.tolist(),
                      "months": [d.isoformat() for d in dates]}

    def add_up(self, dates, standings, group_index, groups, team_of) -> tuple[list, np.ndarray]:
        """The replay's equity rows by month, owner and segment, and the moves between
        states by owner and segment, from the month ends' standings in date order."""
        k = len(rules.STATES)
        rows: list[dict] = []
        previous = None
        moves = np.zeros((len(groups), k * k), dtype=np.int64)
        for date, (state, clv, present, profit_now) in zip(dates, standings, strict=True):
            memory.give_back()  # each month end's temporaries, from the threads' own arenas
            if previous is not None:
                both = (previous != ABSENT) & (state != ABSENT)
                code = group_index[both] * k * k + previous[both] * k + state[both]
                moves += np.bincount(code, minlength=len(groups) * k * k).reshape(-1, k * k)
            previous = state
            equity = np.bincount(group_index, weights=clv * present, minlength=len(groups))
            count = np.bincount(group_index, weights=present, minlength=len(groups))
            profit = np.bincount(group_index, weights=profit_now, minlength=len(groups))
            by_state = {}
            if date == self.as_of:
                for i, name in enumerate(rules.STATES):
                    mask = state == i
                    by_state[name] = {
                        "customers": np.bincount(group_index[mask], minlength=len(groups)),
                        "clv": np.bincount(group_index[mask], weights=clv[mask],
                                           minlength=len(groups))}
            for g, (owner_id, seg) in enumerate(groups):
                if not count[g] and date != self.as_of:
                    continue
                rows.append({
                    "as_of": date, "owner_id": int(owner_id), "team_id": team_of[int(owner_id)],
                    "segment": rules.SEGMENTS[seg - 1] if seg > 0 else "",
                    "customers": int(count[g]), "equity": float(equity[g]),
                    "net_contribution": float(profit[g]),
                    "moves": moves[g].reshape(k, k).tolist() if date == self.as_of else [],
                    "states": {name: {"customers": int(v["customers"][g]),
                                      "clv": float(v["clv"][g])}
                               for name, v in by_state.items()}})
        return rows, moves

    # -- writing -----------------------------------------------------------------------------

    def previous(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        """What the last refresh said of each customer: segment, quadrant, P(alive), risk."""
        pk, segment, quadrant, p_alive, at_risk = data.previous_scores()
        out = {"seen": np.zeros(ids.size, dtype=bool),
               "segment": np.full(ids.size, "", dtype=object),
               "quadrant": np.full(ids.size, "", dtype=object),
               "p_alive": np.full(ids.size, np.nan),
               "at_risk": np.zeros(ids.size, dtype=bool)}
        if pk.size:
            keep = _within(pk, ids)
            pos = np.searchsorted(ids, pk[keep])
            out["seen"][pos] = True
            out["segment"][pos], out["quadrant"][pos] = segment[keep], quadrant[keep]
            out["p_alive"][pos] = p_alive[keep]
            out["at_risk"][pos] = at_risk[keep]
        return out

    def write(self, base, s, models: Models, equity_rows, migration) -> None:
        run = self.run_row
        ids = base["id"]
        before = self.previous(ids)
        bought = s["purchase_days"] > 0
        s["at_risk"] = rules.at_risk(s["purchase_days"], s["derived"], s["value"],
                                     s["p_alive"], before["p_alive"], s["overdue"],
                                     AT_RISK_TOP_SHARE, AT_RISK_DROP)
        # A valuable customer some other app finds at risk (an open complaint) is at risk.
        flagged = np.isin(ids, sources.risk_ids())
        if flagged.any():
            valuable = rules.top_share(s["value"], AT_RISK_TOP_SHARE, bought) | np.isin(
                s["segment"], [rules.SEGMENTS.index("invest"), rules.SEGMENTS.index("maintain")])
            s["at_risk"] = s["at_risk"] | (flagged & bought & valuable)
        segment = np.array(["", *rules.SEGMENTS], dtype=object)[s["segment"] + 1]
        quadrant = np.array(["", *rules.QUADRANTS], dtype=object)[s["quadrant"] + 1]

        sqlite = connection.vendor == "sqlite"
        as_of = np.datetime64(self.as_of.isoformat(), "D")

        # Columns are numpy arrays, NULL where a float is not finite, a date is NaT or a
        # score is masked (as copy_columns reads them); SQLite's rows get them as Python
        # values (plain_values).
        def nullable(values, digits=None):
            values = np.asarray(values, dtype=float)
            return np.round(values, digits) if digits is not None else values

        def dates(days, sl):
            out = np.asarray(days[sl], dtype="int64").astype("datetime64[D]")
            out[~bought[sl]] = np.datetime64("NaT")
            return out

        def scores(values):
            return np.ma.masked_equal(np.asarray(values), 0)

        def columns(sl: np.ndarray) -> dict[str, np.ndarray]:
            """One batch of customers (their places in `ids`) as database columns (built a
            batch at a time, so that a million customers never become 25 million Python
            objects at once)."""
            n = len(ids[sl])
            return {
                "customer_id": ids[sl], "refresh_id": np.full(n, run.pk),
                "revenue": nullable(s["revenue"][sl], 2),
                "gross_profit": nullable(s["gross_profit"][sl], 2),
                "cost_to_serve": nullable(s["cost_to_serve"][sl], 2),
                "net_contribution": nullable(s["net_contribution"][sl], 2),
                "relationship_investment": nullable(s["relationship_investment"][sl], 2),
                "revenue_12m": nullable(s["revenue_12m"][sl], 2),
                "gross_profit_12m": nullable(s["gross_profit_12m"][sl], 2),
                "cost_to_serve_12m": nullable(s["cost_to_serve_12m"][sl], 2),
                "relationship_investment_12m": nullable(
                    s["relationship_investment_12m"][sl], 2),
                "net_contribution_12m": nullable(s["net_contribution_12m"][sl], 2),
                "purchase_days": s["purchase_days"][sl],
                "first_purchase": dates(s["first_day"], sl),
                "last_purchase": dates(s["last_day"], sl),
                "p_alive": nullable(s["p_alive"][sl]),
                "expected_purchases": nullable(s["purchases"][sl]),
                "clv": nullable(s["clv"][sl], 2),
                "clv_12m": nullable(s["clv_12m"][sl], 2),
                "margin": nullable(s["margin"][sl], 4),
                "potential_value": nullable(s["potential_value"][sl], 2),
                "influence_value": nullable(s["influence_value"][sl], 2),
                "rfm_r": scores(s["rfm_r"][sl]), "rfm_f": scores(s["rfm_f"][sl]),
                "rfm_m": scores(s["rfm_m"][sl]), "value_rank": s["rank"][sl],
                "value_percentile": s["percentile"][sl],
                "segment": segment[sl], "quadrant": quadrant[sl],
                "lookalike": nullable(s["lookalike"][sl], 1),
                "at_risk": s["at_risk"][sl],
                **{f"loyalty_{key}": nullable(s[f"loyalty_{key}"][sl], 1)
                   for key in ("index", "behaviour", "attitude", "repeat", "regularity",
                               "tenure", "wallet", "referrals")},
                "overdue": nullable(s["overdue"][sl], 2),
                "as_of": np.full(n, as_of), "lifecycle_state": states[sl],
            }

        value_names = ["customer_id", "refresh_id", *(
            f.column for f in CustomerValue._meta.concrete_fields
            if f.column not in {"customer_id", "refresh_id"})]
        snapshot_names = ["refresh_id", "customer_id", "as_of", "clv", "p_alive",
                          "net_contribution", "segment", "quadrant", "lifecycle_state"]
        self.step(5, _("Writing scores"))
        # Each batch of customers is written in a transaction of its own (on SQLite, the one
        # write lock is held a batch at a time, so that people keep saving their cards): a
        # customer's scores, state and history change together, and a reader sees either
        # the last refresh's scores of a customer or this one's. The batches replace every
        # score row between their first and last customer (the first batch from the lowest
        # id, the last to the highest), so rows of customers no longer scored go too.
        states = np.asarray(base["state"], dtype=object).copy()
        batch = max(int(django_settings.KEHU_REFRESH_WRITE_BATCH), 1)
        self.written = 0
        self.write_seconds = []
        table, qn = CustomerValue._meta.db_table, connection.ops.quote_name
        for lo in range(0, ids.size, batch):
            at = np.arange(lo, min(lo + batch, ids.size))
            first = lo == 0
            last = lo + batch >= ids.size
            started = time.monotonic()
            with transaction.atomic():
                now = self.still_present(ids[at])
                keep = _within(ids[at], now.id)
                gone = int(keep.size - keep.sum())
                at = at[keep]
                base["owner"][at] = now.owner[np.searchsorted(now.id, ids[at])]
                states[at] = self.apply_states(base, s, at)
                where = " AND ".join(
                    ([] if first else [f"customer_id >= {int(ids[lo])}"])
                    + ([] if last else [f"customer_id < {int(ids[lo + batch])}"])) or "1 = 1"
                with connection.cursor() as cursor:
                    cursor.execute(f"DELETE FROM {qn(table)} WHERE {where}")  # noqa: S608 - integers
                if at.size and sqlite:
                    built = columns(at)
                    write_rows(table, value_names, zip(
                        *(plain_values(built[k]) for k in value_names), strict=True), plain=True)
                    write_rows(CustomerValueSnapshot._meta.db_table, snapshot_names, zip(
                        *(plain_values(built[k]) for k in snapshot_names), strict=True),
                        plain=True)
                elif at.size:
                    built = columns(at)
                    copy_columns(CustomerValue, {k: built[k] for k in value_names})
                    copy_columns(CustomerValueSnapshot, {k: built[k] for k in snapshot_names})
            self.write_seconds.append(time.monotonic() - started)  # type: ignore[union-attr]
            self.written += int(at.size)
            if gone:
                self.skipped += gone
                logger.info("value refresh: %d customers were deleted or merged while it "
                            "wrote and are left out", gone)
            self.report(5, self.steps, _("Writing scores: %(done)s of %(total)s customers")
                        % {"done": f"{self.written:,}", "total": f"{ids.size:,}"})
        self.step(6, _("Keeping the history"))
        with transaction.atomic():
            # Tasks only for customers still here (deleted since their batch: none).
            kept = _within(ids, data.present_customers(lock=False).id)
            if equity_rows:
                names = ["refresh_id", *equity_rows[0]]
                write_rows(EquitySnapshot._meta.db_table, names, [
                    (run.pk, *(json.dumps(v) if k in {"moves", "states"} else
                               v.isoformat() if sqlite and isinstance(v, dt.date) else v
                               for k, v in row.items())) for row in equity_rows], plain=True)
            self.step(7, _("Creating tasks for owners"))
            self.create_tasks(base, s, segment, quadrant, before, states, kept)
            run.customers = self.written
            run.fit = {
                "time_unit": TIME_UNIT,
                "purchases": models.purchases.to_dict() if models.purchases else None,
                "gamma_gamma": models.gamma_gamma.to_dict() if models.gamma_gamma else None}
            run.warnings = self.warnings
            run.migration = migration
            run.status = RefreshStatus.DONE
            run.finished_at = timezone.now()
            run.save()

    def apply_states(self, base, s, at: np.ndarray) -> np.ndarray:
        """Set the states behaviour decides for the customers at places `at` of the base,
        each change with its transition, reason, new version and history row
        (kehu.customers.invariants). Returns their states after the refresh; one changed by
        hand since the base was read keeps that state."""
        current = base["state"][at]
        out = np.asarray(current, dtype=object).copy()
        derived = s["derived"][at]
        # Only customers whose state behaviour decides and differs are looked at one by one.
        codes = np.asarray([STATE_VALUES[name] for name in rules.STATES], dtype=object)[
            np.clip(derived, 0, len(STATE_VALUES) - 1)]
        sticky = np.isin(current, list(MANUAL_STICKY))
        differs = (derived != rules.NO_PURCHASE) & ~sticky & (codes != current)
        ids = base["id"][at]
        changes = []
        for j in np.flatnonzero(differs).tolist():
            i, code = int(at[j]), int(derived[j])
            changes.append((int(ids[j]), current[j], STATE_VALUES[rules.STATES[code]],
                            self.reason(rules.STATES[code], s, i)))
        moved = set(invariants.set_states(
            changes, source=TransitionSource.DERIVED,
            history_reason=_("Lifecycle state derived by the value refresh of %(date)s")
            % {"date": self.as_of.isoformat()}))
        # A state locked by hand is kept; the lifecycle history says so, and what behaviour
        # says instead (once per difference, not at every refresh).
        locks = invariants.active_locks(pk for pk, _old, _new, _why in changes
                                        if pk not in moved)
        labels = dict(LifecycleState.choices)
        invariants.note_kept_states(
            ((pk, old, _("Kept: locked by hand (%(lock)s). Behaviour says %(state)s: "
                         "%(why)s") % {"lock": locks[pk].reason, "state": labels[new],
                                      "why": why})
             for pk, old, new, why in changes if pk in locks), source=TransitionSource.DERIVED)
        place = {pk: j for j, pk in enumerate(ids.tolist())} if moved else {}
        for pk, _old, new, _why in changes:
            if pk in moved:
                out[place[pk]] = new
        return out

    def texts(self) -> dict[str, str]:
        """The reasons' wording, translated once per refresh (a first refresh of a million
        customers gives most of them a reason)."""
        if not hasattr(self, "_texts"):
            self._texts = {
                "idle": _("No purchase for %(days)d days"),
                "churned": _("P(alive) fell to %(p).2f, below %(limit).2f"),
                "loyal": _("Loyalty index %(index).0f (at least %(limit)d), bought on "
                           "%(days)d days, customer for %(tenure)d days"),
                "repeat": _("Bought on %(days)d days"),
                "first": _("First purchase on %(date)s")}
        return self._texts

    def reason(self, state: str, s, i: int) -> str:
        cfg, text = self.settings, self.texts()
        if state == "churned":
            idle = self.as_of_day - int(s["last_day"][i])
            if not np.isfinite(s["p_alive"][i]):
                return text["idle"] % {"days": idle}
            return text["churned"] % {"p": s["p_alive"][i], "limit": cfg.churn_p_alive}
        if state == "loyal":
            return text["loyal"] % {
                "index": s["loyalty_index"][i], "limit": cfg.loyal_min_index,
                "days": s["purchase_days"][i],
                "tenure": self.as_of_day - s["first_day"][i]}
        if state == "repeat":
            return text["repeat"] % {"days": s["purchase_days"][i]}
        return text["first"] % {
            "date": (data.EPOCH + dt.timedelta(days=int(s["first_day"][i]))).isoformat()}

    def previous_states(self, ids: np.ndarray) -> np.ndarray:
        """Each customer's lifecycle state as the last finished refresh left it ("" for a
        customer it did not score): a state entered since — by behaviour or by hand — calls
        for its playbook."""
        out = np.full(ids.size, "", dtype=object)
        last = (ValueRefresh.objects.filter(status=RefreshStatus.DONE)
                .exclude(pk=self.run_row.pk).order_by("-started_at", "-id").first())
        if last is None:
            return out
        rows = CustomerValueSnapshot.objects.filter(refresh=last).values_list(
            "customer_id", "lifecycle_state")
        pairs = list(rows.iterator(chunk_size=ROW_CHUNK))
        if pairs:
            pk = np.fromiter((p for p, _s in pairs), dtype=np.int64, count=len(pairs))
            state = np.asarray([st for _p, st in pairs], dtype=object)
            keep = _within(pk, ids)
            out[np.searchsorted(ids, pk[keep])] = state[keep]
        return out

    def create_tasks(self, base, s, segment, quadrant, before, states, kept) -> None:
        """Tasks for the owners: for each customer that entered a segment, quadrant or the
        at-risk list whose treatment is set to become work, or a lifecycle state whose
        playbook is on (kehu.tasks.Playbook). The first refresh finds every customer new,
        so it gives work at once. The most valuable customers first, and at most
        KEHU_TASKS_PER_REFRESH new tasks per owner per refresh; the rest are counted on the
        owner's workbench with a link to the customer list that shows them. Only the tasks
        given are built: a first refresh of a million customers holds most of them back."""
        from kehu.tasks.models import Playbook

        actions = {a.segment: a for a in SegmentAction.objects.filter(create_task=True)}
        playbooks = {p.state: p for p in Playbook.objects.filter(create_task=True)}
        ids, owners = base["id"], base["owner"]
        date = self.as_of.isoformat()
        clv = s["clv"]
        labels = dict(LifecycleState.choices)

        def money(x: float) -> str:
            return "—" if not np.isfinite(x) else f"{x:,.0f}"

        def segment_task(i: int, key: str) -> NewTask:
            action = actions[key]
            return NewTask(
                customer_id=int(ids[i]), assignee_id=int(owners[i]), title=action.task_subject,
                origin=f"segment:{key}", due_on=self.as_of + dt.timedelta(
                    days=action.due_in_days),
                reason=_("Entered by the value refresh of %(date)s: net contribution "
                         "(12 months) %(current)s, CLV %(clv)s.") % {
                    "date": date, "current": money(s["net_contribution_12m"][i]),
                    "clv": money(clv[i])})

        def risk_task(i: int, key: str) -> NewTask:
            action, was = actions[key], before["p_alive"][i]
            return NewTask(
                customer_id=int(ids[i]), assignee_id=int(owners[i]), title=action.task_subject,
                origin=f"segment:{key}", priority=TaskPriority.HIGH, kind=TaskKind.CALL,
                due_on=self.as_of + dt.timedelta(days=action.due_in_days),
                reason=_("At risk by the value refresh of %(date)s: P(alive) %(p)s%(was)s, "
                         "value rank %(rank)d, CLV %(clv)s.") % {
                    "date": date, "p": f"{s['p_alive'][i]:.2f}",
                    "was": (_(" (was %(p).2f)") % {"p": was}) if np.isfinite(was) else "",
                    "rank": s["rank"][i], "clv": money(clv[i])})

        def playbook_task(i: int, state: str) -> NewTask:
            book, why = playbooks[state], ""
            code = int(s["derived"][i])
            if code != rules.NO_PURCHASE and STATE_VALUES[rules.STATES[code]] == state:
                why = " " + self.reason(rules.STATES[code], s, i) + "."
            return NewTask(
                customer_id=int(ids[i]), assignee_id=int(owners[i]), title=book.task_title,
                detail=book.detail, origin=book.origin, priority=book.priority,
                kind=book.kind, due_on=self.as_of + dt.timedelta(days=book.due_in_days),
                reason=_("Entered “%(state)s” by the value refresh of %(date)s.%(why)s")
                % {"state": labels.get(state, state), "date": date, "why": why})

        # Every (customer, rule) that calls for a task, as arrays: who, and which rule.
        rule_list: list[tuple[str, str, str, Callable]] = []  # origin, key, title, build
        who: list[np.ndarray] = []
        which: list[np.ndarray] = []

        def candidates_of(mask: np.ndarray, origin: str, key: str, title: str, build) -> None:
            found = np.flatnonzero(mask & kept)
            if found.size:
                who.append(found)
                which.append(np.full(found.size, len(rule_list), dtype=np.int64))
            rule_list.append((origin, key, title, build))

        for kind, values in (("segment", segment), ("quadrant", quadrant)):
            moved = (values != "") & (values != before[kind])
            for key in (rules.SEGMENTS if kind == "segment" else rules.QUADRANTS):
                if key in actions:
                    candidates_of(moved & (values == key), f"segment:{key}", key,
                                  actions[key].task_subject, segment_task)
        if "at_risk" in actions:
            candidates_of(s["at_risk"] & ~before["at_risk"], "segment:at_risk", "at_risk",
                          actions["at_risk"].task_subject, risk_task)
        if playbooks:
            now = np.asarray(states, dtype=object)
            entered = now != self.previous_states(ids)
            for state, book in playbooks.items():
                candidates_of(entered & (now == state), book.origin, state, book.task_title,
                              playbook_task)
        if who:
            customer = np.concatenate(who)
            rule = np.concatenate(which)
            order = np.argsort(-s["value"][customer], kind="stable")  # most valuable first
        else:
            customer = rule = order = np.empty(0, dtype=np.int64)

        built: list[int] = []

        def build_task(i: int, key: str, build) -> NewTask:
            built.append(int(ids[i]))
            return build(i, key)

        def candidates():
            for k in order:
                i, (origin, key, title, build) = int(customer[k]), rule_list[rule[k]]
                yield Candidate(customer_id=int(ids[i]), assignee_id=int(owners[i]),
                                origin=origin, title=title,
                                build=lambda i=i, key=key, build=build: build_task(i, key,
                                                                                   build))
            # Before the tasks are written: their customers (only theirs, not the whole
            # base) are held until the commit, so that none can be deleted under them.
            for lo in range(0, len(built), ROW_CHUNK):
                chunk = sorted(built[lo:lo + ROW_CHUNK])
                data.present_customers(chunk[0], chunk[-1], among=chunk)

        queries = {f"segment:{k}": f"segment={k}" for k in rules.SEGMENTS}
        queries.update({f"segment:{k}": f"quadrant={k}" for k in rules.QUADRANTS})
        queries["segment:at_risk"] = "at_risk=on"
        queries.update({p.origin: f"state={p.state}" for p in playbooks.values()})
        open_capped_tasks(candidates(), cap=django_settings.KEHU_TASKS_PER_REFRESH,
                          source="value_refresh", origins={r[0] for r in rule_list},
                          list_queries=queries)
