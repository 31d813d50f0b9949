"""REST endpoints of satisfaction surveys:

- /api/v1/surveys (list, create) and /api/v1/surveys/{survey_id} (read, update): the
  surveys and their questions in both languages;
- /api/v1/customers/{id}/survey-invitations (create): invite a customer, get the link;
- /api/v1/customers/{id}/survey-responses (list): a customer's answers (audited);
- /api/v1/survey-results: the figures over your scope by month, value segment, service
  group and owner.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from kehu.core import policy
from kehu.core.errors import NotPermitted
from kehu.core.permissions import CONTRIBUTE, VIEW
from kehu.core.requests import client_ip
from kehu.core.schemas import (
    MAX_ID,
    Id,
    InputSchema,
    QueryParams,
    bounded_text,
    errors,
    refuse_unknown_query,
)
from kehu.customers.models import Contact
from kehu.customers.selectors import get_customer
from kehu.customers.services import record_customer_view
from kehu.service.surveys import selectors, services
from kehu.service.surveys.models import Measure, Purpose, Survey

router = Router(tags=["surveys"])

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
MeasureCode = Literal[tuple(Measure.values)]
PurposeCode = Literal[tuple(Purpose.values)]
Days = Annotated[int, Field(ge=1, le=3650)]


def _audit(request: HttpRequest) -> dict[str, Any]:
    return {"ip": client_ip(request), "via": "api"}


class QuestionIn(InputSchema):
    id: Id | None = Field(None, description="A question of this survey to change; without "
                                            "it, a new question.")
    measure: MeasureCode = Field(description="csat (1–5), nps (0–10), material, spiritual, "
                                             "social (1–5 each), buy_again (0–10) or comment.")
    text_en: bounded_text(300, 1)
    text_zh: bounded_text(300, 1)
    required: bool = True


class SurveyFieldsIn(InputSchema):
    name_en: bounded_text(120, 1) = None
    name_zh: bounded_text(120, 1) = None
    intro_en: bounded_text(1000) = ""
    intro_zh: bounded_text(1000) = ""
    purpose: PurposeCode = Field(Purpose.BY_HAND, description=(
        "after_ticket: sent when a ticket is closed; key_customers: sent periodically to key "
        "customers; by_hand. One active survey per automatic purpose."))
    active: bool = True
    every_days: Days = Field(180, description="Key customers: ask again after this many days.")
    valid_days: Days = Field(14, description="The link works for this many days.")


class SurveyIn(SurveyFieldsIn):
    name_en: bounded_text(120, 1)
    name_zh: bounded_text(120, 1)
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=30)]


class SurveyPatch(SurveyFieldsIn):
    version: Annotated[int, Field(ge=1, le=2**31 - 1)] = Field(
        ..., description="The version you read; a stale one is refused with 409.")
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=30)] | None = Field(
        None, description="The whole list in order: questions with an id are changed, "
                          "without are added, the others removed.")


class QuestionOut(Schema):
    id: int
    position: int
    measure: str
    text_en: str
    text_zh: str
    required: bool
    scale_min: int | None
    scale_max: int | None


class SurveyOut(Schema):
    id: int
    name_en: str
    name_zh: str
    intro_en: str
    intro_zh: str
    purpose: str
    active: bool
    every_days: int
    valid_days: int
    version: int
    questions: list[QuestionOut]


class SurveyList(Schema):
    surveys: list[SurveyOut]


class SurveyListParams(QueryParams):
    active: bool | None = Field(None, description="Only active (true) or inactive (false).")
    purpose: PurposeCode | None = None


class InvitationIn(InputSchema):
    survey: Id
    contact: Id | None = Field(None, description="The contact to e-mail the link to; default: "
                                                 "the primary contact with an address.")
    language: Literal["zh-hans", "en"] = "zh-hans"


class InvitationOut(Schema):
    id: int
    survey: int
    customer: int
    contact: int | None
    emailed_to: str = Field(description="Where the link was e-mailed; empty: pass `url` on.")
    url: str = Field(description="The signed link; it works once and until `expires_at`.")
    sent_at: datetime
    expires_at: datetime


class AnswerOut(Schema):
    measure: str
    question_en: str
    question_zh: str
    value: int | None
    text: str


class ResponseOut(Schema):
    id: int
    survey: int
    customer: int
    reason: str = Field(description="after_ticket, key_customers or by_hand.")
    answered_at: datetime
    csat: float | None
    nps: float | None = Field(description="The answer on the recommendation scale, 0–10.")
    material: float | None
    spiritual: float | None
    social: float | None
    buy_again: float | None
    low: bool
    comment: str
    answers: list[AnswerOut]


class ScoresOut(Schema):
    responses: int
    csat: float | None = Field(description="Mean, 1–5.")
    satisfied_share: float | None = Field(description="Share answering 4–5 of 5, 0–1.")
    nps: float | None = Field(description="Net promoter score, −100…100.")
    recommend: float | None
    material: float | None
    spiritual: float | None
    social: float | None
    buy_again: float | None
    low: int


class SurveyGroupOut(Schema):
    key: str
    label: str
    scores: ScoresOut


class MonthOut(Schema):
    month: date
    scores: ScoresOut


class SurveyResultsOut(Schema):
    since: date
    until: date
    summary: ScoresOut
    by_month: list[MonthOut]
    by_segment: list[SurveyGroupOut]
    by_service_group: list[SurveyGroupOut]
    by_owner: list[SurveyGroupOut]


class ResultsParams(QueryParams):
    months: Annotated[int, Field(ge=1, le=60)] = 12
    survey: Id | None = None


def survey_out(survey: Survey) -> dict[str, Any]:
    return {**{k: getattr(survey, k) for k in ("name_en", "name_zh", "intro_en", "intro_zh",
                                                "purpose", "active", "every_days",
                                                "valid_days", "version")},
            "id": survey.pk,
            "questions": [{"id": q.pk, "position": q.position, "measure": q.measure,
                           "text_en": q.text_en, "text_zh": q.text_zh, "required": q.required,
                           "scale_min": q.scale[0] if q.scale else None,
                           "scale_max": q.scale[1] if q.scale else None}
                          for q in survey.questions.all()]}


def _scores(s: selectors.Scores) -> dict[str, Any]:
    return dict(s.__dict__)


def _survey_data(payload: Schema) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True, exclude={"questions", "version"})


def _questions(payload: Schema) -> list[dict[str, Any]] | None:
    if payload.questions is None:
        return None
    return [q.model_dump(exclude_none=True) for q in payload.questions]


@router.get("/surveys", response={200: SurveyList, **errors(422)})
def list_surveys(request: HttpRequest, params: Query[SurveyListParams]):
    """The surveys and their questions (no customer's data)."""
    refuse_unknown_query(request, SurveyListParams)
    qs = selectors.surveys(request.auth).prefetch_related("questions")
    if params.active is not None:
        qs = qs.filter(active=params.active)
    if params.purpose:
        qs = qs.filter(purpose=params.purpose)
    return {"surveys": [survey_out(s) for s in qs]}


@router.post("/surveys", response={201: SurveyOut, **errors(400, 403, 422)})
def create_survey(request: HttpRequest, payload: SurveyIn):
    """A new survey with its questions in both languages (managers and admins)."""
    survey = services.create_survey(request.auth, _survey_data(payload), _questions(payload),
                                    **_audit(request))
    return Status(201, survey_out(selectors.get_survey(request.auth, survey.pk)))


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **errors(404, 422)})
def get_survey(request: HttpRequest, survey_id: IdPath):
    return survey_out(selectors.get_survey(request.auth, survey_id))


@router.patch("/surveys/{survey_id}", response={200: SurveyOut, **errors(400, 403, 404, 409,
                                                                          422)})
def update_survey(request: HttpRequest, survey_id: IdPath, payload: SurveyPatch):
    """Change the fields sent; `questions`, when sent, is the whole list. `version` must be
    the one you read, or the answer is 409."""
    survey = selectors.get_survey(request.auth, survey_id)
    services.update_survey(request.auth, survey, _survey_data(payload), _questions(payload),
                           expected_version=payload.version, **_audit(request))
    return survey_out(selectors.get_survey(request.auth, survey_id))


@router.post("/customers/{id}/survey-invitations",
             response={201: InvitationOut, **errors(400, 403, 404, 422)})
def invite(request: HttpRequest, id: IdPath, payload: InvitationIn):  # noqa: A002
    """Invite the customer to answer an active survey. The link is e-mailed to the contact
    when they have an address, and returned in `url` to pass on by phone or chat."""
    customer = get_customer(request.auth, id, CONTRIBUTE)
    survey = selectors.sendable_surveys(request.auth).filter(pk=payload.survey).first()
    if survey is None:
        raise ValidationError({"survey": _("No active survey with questions has this id.")})
    contact = None
    if payload.contact is not None:
        contact = Contact.objects.filter(pk=payload.contact, customer=customer).first()
        if contact is None:
            raise ValidationError({"contact": _("This contact is not one of the customer's.")})
    sent = services.send_survey(request.auth, survey, customer, contact=contact,
                                language=payload.language, **_audit(request))
    i = sent.invitation
    return Status(201, {"id": i.pk, "survey": i.survey_id, "customer": i.customer_id,
                        "contact": i.contact_id, "emailed_to": i.emailed_to, "url": sent.url,
                        "sent_at": i.sent_at, "expires_at": i.expires_at})


@router.get("/customers/{id}/survey-responses", response={200: list[ResponseOut],
                                                          **errors(404, 422)})
def customer_responses(request: HttpRequest, id: IdPath):  # noqa: A002
    """The customer's answers to surveys, newest first. Reading them is recorded in the
    audit log."""
    customer = get_customer(request.auth, id, VIEW)
    rows = selectors.customer_results(request.auth, customer)
    record_customer_view(request.auth, customer, part="surveys", **_audit(request))
    return [{"id": r.pk, "survey": r.survey_id, "customer": r.customer_id,
             "reason": r.invitation.reason, "answered_at": r.answered_at, "csat": r.csat,
             "nps": r.nps, "material": r.material, "spiritual": r.spiritual,
             "social": r.social, "buy_again": r.buy_again, "low": r.low, "comment": r.comment,
             "answers": [{"measure": a.measure, "question_en": a.text_en,
                          "question_zh": a.text_zh, "value": a.value, "text": a.text}
                         for a in r.answers.all()]} for r in rows]


@router.get("/survey-results", response={200: SurveyResultsOut, **errors(403, 422)})
def results(request: HttpRequest, params: Query[ResultsParams]):
    """The survey figures over the customers of your scope: the whole period, each month,
    each value segment, service group and owner (managers, analysts, marketing, service
    staff and admins)."""
    refuse_unknown_query(request, ResultsParams)
    user = request.auth
    if not policy.may_see_survey_results(user):
        raise NotPermitted(_("You may not read the survey results."))
    today = timezone.localdate()
    trend = selectors.by_month(user, params.months, today, params.survey)
    period = selectors.Period(trend[0].month, today)

    def groups(rows):
        return [{"key": g.key, "label": g.label, "scores": _scores(g.scores)} for g in rows]

    return {"since": period.since, "until": today,
            "summary": _scores(selectors.summary(user, period, params.survey)),
            "by_month": [{"month": m.month, "scores": _scores(m.scores)} for m in trend],
            "by_segment": groups(selectors.by_segment(user, period, params.survey)),
            "by_service_group": groups(selectors.by_service_group(user, period,
                                                                  params.survey)),
            "by_owner": groups(selectors.by_owner(user, period, params.survey))}

