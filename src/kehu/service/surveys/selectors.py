"""Reads of surveys and their results, each scoped to the customers the user may see.

For the service dashboard and other readers, the results come as `Scores` (one set of
figures for a group of responses):
- `summary(user, period)`                       all responses in the period;
- `by_segment(user, period)`, `by_owner(user, period)`, `by_service_group(user, period)`:
                                                 a `Group` (key, label, scores) per group;
- `by_month(user, months, today)`                a `Month` (first day, scores) per month,
                                                 the oldest first, months without answers too;
- `customer_results(user, customer)`             one customer's responses with their answers;
- `latest_satisfaction(user)`                    {customer id: satisfied?} by each customer's
                                                 latest CSAT answer (4–5 of 5 is satisfied).
A `Period` is (since, until) as dates, both included; None on either side is open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kehu.core.permissions import VIEW, restrict
from kehu.customers.models import Customer, ServiceGroup
from kehu.service.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
)

PROMOTER_MIN = 9  # 9–10 on the recommendation scale
DETRACTOR_MAX = 6  # 0–6
SATISFIED_MIN = 4  # 4–5 of 5


@dataclass(frozen=True)
class Period:
    since: dt.date | None = None
    until: dt.date | None = None


@dataclass(frozen=True)
class Scores:
    """Figures of a group of responses. Means are on each measure's own scale; None where
    nobody answered that measure."""

    responses: int = 0
    csat: float | None = None  # mean, 1–5
    satisfied_share: float | None = None  # share answering 4 or 5 of 5 (CSAT %), 0–1
    nps: float | None = None  # net promoter score, −100…100
    recommend: float | None = None  # mean, 0–10
    material: float | None = None  # mean, 1–5
    spiritual: float | None = None
    social: float | None = None
    buy_again: float | None = None  # mean, 0–10
    low: int = 0  # responses with a low score


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    scores: Scores


@dataclass(frozen=True)
class Month:
    month: dt.date
    scores: Scores


def _aggregates() -> dict:
    return {
        "n": Count("pk"),
        "csat_avg": Avg("csat"), "csat_n": Count("csat"),
        "satisfied_n": Count("pk", filter=Q(csat__gte=SATISFIED_MIN)),
        "nps_avg": Avg("nps"), "nps_n": Count("nps"),
        "promoters": Count("pk", filter=Q(nps__gte=PROMOTER_MIN)),
        "detractors": Count("pk", filter=Q(nps__lte=DETRACTOR_MAX)),
        "material_avg": Avg("material"), "spiritual_avg": Avg("spiritual"),
        "social_avg": Avg("social"), "buy_again_avg": Avg("buy_again"),
        "low_n": Count("pk", filter=Q(low=True)),
    }


def _scores(row: dict) -> Scores:
    nps_n, csat_n = row["nps_n"], row["csat_n"]
    return Scores(
        responses=row["n"], csat=row["csat_avg"],
        satisfied_share=row["satisfied_n"] / csat_n if csat_n else None,
        nps=100.0 * (row["promoters"] - row["detractors"]) / nps_n if nps_n else None,
        recommend=row["nps_avg"], material=row["material_avg"],
        spiritual=row["spiritual_avg"], social=row["social_avg"],
        buy_again=row["buy_again_avg"], low=row["low_n"])


def _bounds(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


# Surveys (the firm's questionnaires, not customer data) -----------------------------------

def surveys(user) -> QuerySet[Survey]:
    """Every survey, for any signed-in user (they hold no customer's data)."""
    if not (user is not None and user.is_authenticated and user.is_active):
        return Survey.objects.none()
    return Survey.objects.annotate(n_questions=Count("questions"))


def get_survey(user, pk) -> Survey:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Survey.DoesNotExist from None
    return surveys(user).prefetch_related("questions").get(pk=pk)


def sendable_surveys(user) -> QuerySet[Survey]:
    """Active surveys with questions, which may be sent by hand to a customer."""
    return surveys(user).filter(active=True, n_questions__gt=0)


# Invitations and responses ----------------------------------------------------------------

def invitations(user, action: str = VIEW) -> QuerySet[SurveyInvitation]:
    return restrict(SurveyInvitation.objects.select_related("survey", "customer", "contact"),
                    user, action)


def responses(user, period: Period = Period(), survey: int | None = None,
              purpose: str = "") -> QuerySet[SurveyResponse]:
    qs = restrict(SurveyResponse.objects.all(), user, VIEW)
    if period.since:
        qs = qs.filter(answered_at__gte=_bounds(period.since))
    if period.until:
        qs = qs.filter(answered_at__lt=_bounds(period.until + dt.timedelta(days=1)))
    if survey:
        qs = qs.filter(survey_id=survey)
    if purpose:
        qs = qs.filter(invitation__reason=purpose)
    return qs


def response_list(user, period: Period = Period(), *, low_only: bool = False,
                  customer: int | None = None, survey: int | None = None
                  ) -> QuerySet[SurveyResponse]:
    qs = responses(user, period, survey).select_related("customer", "customer__owner",
                                                        "survey", "invitation")
    if low_only:
        qs = qs.filter(low=True)
    if customer:
        qs = qs.filter(customer_id=customer)
    return qs


def get_response(user, pk) -> SurveyResponse:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise SurveyResponse.DoesNotExist from None
    return response_list(user).prefetch_related("answers").get(pk=pk)


def customer_results(user, customer: Customer) -> list[SurveyResponse]:
    """The customer's responses, newest first, each with its answers."""
    return list(responses(user).filter(customer=customer)
                .select_related("survey", "invitation")
                .prefetch_related(Prefetch("answers", SurveyAnswer.objects.order_by("id"))))


def customer_scores(user, customer: Customer) -> Scores:
    return _summarise(responses(user).filter(customer=customer))


def open_invitations(user, customer: Customer, now: dt.datetime | None = None
                     ) -> list[SurveyInvitation]:
    """Invitations of the customer not yet answered and not expired."""
    now = now or timezone.now()
    return list(invitations(user).filter(customer=customer, answered_at__isnull=True,
                                         expires_at__gt=now))


# Results --------------------------------------------------------------------------------------

def _summarise(qs: QuerySet[SurveyResponse]) -> Scores:
    return _scores(qs.aggregate(**_aggregates()))


def summary(user, period: Period = Period(), survey: int | None = None,
            purpose: str = "") -> Scores:
    return _summarise(responses(user, period, survey, purpose))


def response_rate(user, period: Period = Period(), survey: int | None = None
                  ) -> tuple[int, int]:
    """(invitations sent in the period, of which answered)."""
    qs = invitations(user)
    if period.since:
        qs = qs.filter(sent_at__gte=_bounds(period.since))
    if period.until:
        qs = qs.filter(sent_at__lt=_bounds(period.until + dt.timedelta(days=1)))
    if survey:
        qs = qs.filter(survey_id=survey)
    row = qs.aggregate(sent=Count("pk"), answered=Count("pk", filter=Q(answered_at__isnull=False)))
    return row["sent"], row["answered"]


def _grouped(qs: QuerySet[SurveyResponse], key: str) -> dict:
    return {row[key]: _scores(row) for row in qs.values(key).annotate(**_aggregates())
            .order_by(key)}


def by_segment(user, period: Period = Period(), survey: int | None = None) -> list[Group]:
    """Per value segment (kehu.analytics); customers not yet scored under "" (no segment)."""
    from kehu.analytics.models import ValueSegment

    rows = _grouped(responses(user, period, survey), "customer__value__segment")
    labels = {**dict(ValueSegment.choices)}
    out = [Group(k, str(labels[k]), rows[k]) for k in ValueSegment.values if k in rows]
    empty = rows.get(None) or rows.get("")
    if empty:
        from django.utils.translation import gettext as _

        out.append(Group("", _("Not yet scored"), empty))
    return out


def by_service_group(user, period: Period = Period(), survey: int | None = None
                     ) -> list[Group]:
    rows = _grouped(responses(user, period, survey), "customer__service_group")
    out = [Group(k, str(label), rows[k]) for k, label in ServiceGroup.choices if k in rows]
    if rows.get("") or rows.get(None):
        from django.utils.translation import gettext as _

        out.append(Group("", _("(not set)"), rows.get("") or rows.get(None)))
    return out


def by_owner(user, period: Period = Period(), survey: int | None = None) -> list[Group]:
    """Per the customer's owner now, the best-scored first."""
    from kehu.accounts.models import User

    rows = _grouped(responses(user, period, survey), "customer__owner")
    names = {u.pk: str(u) for u in User.objects.filter(pk__in=[k for k in rows if k])}
    out = [Group(str(k), names.get(k, ""), s) for k, s in rows.items() if k]
    out.sort(key=lambda g: (-(g.scores.csat or 0), g.label))
    return out


def by_month(user, months: int = 12, today: dt.date | None = None,
             survey: int | None = None) -> list[Month]:
    """The last `months` calendar months up to today's, the oldest first."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    starts = []
    for _i in range(max(1, min(months, 60))):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    starts.reverse()
    qs = responses(user, Period(starts[0], today), survey).annotate(
        month=TruncMonth("answered_at", tzinfo=timezone.get_current_timezone()))
    rows = {}
    for row in qs.values("month").annotate(**_aggregates()).order_by("month"):
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        rows[month] = _scores(row)
    return [Month(m, rows.get(m, Scores())) for m in starts]


def latest_satisfaction(user) -> dict[int, bool]:
    """Each customer's latest answer to a satisfaction question (CSAT): satisfied (4 or 5 of
    5) or not; customers who never answered one are absent."""
    rows = (responses(user).filter(csat__isnull=False)
            .order_by("customer_id", "-answered_at", "-id").values_list("customer_id", "csat"))
    out: dict[int, bool] = {}
    for pk, csat in rows.iterator(chunk_size=5000):
        out.setdefault(pk, csat >= SATISFIED_MIN)
    return out
