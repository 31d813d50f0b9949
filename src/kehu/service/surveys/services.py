"""Writing surveys, sending them and taking the answers: each service checks who may, writes
in one transaction and is audited.

- create_survey / update_survey: the survey and its questions in both languages (managers).
- send_survey: invite one customer (optionally a contact) by a signed link that works once
  and expires; the link is e-mailed to the contact when they have an address, and shown to
  the sender so that it can go by phone or chat too.
- invite_after_ticket: the invitation sent when a ticket is closed (the tickets part's
  signal, no user).
- invite_key_customers: the periodic sweep of key customers.
- submit_answers: the public page's answers (no user: the link is the authority). A low
  score opens a follow-up task for the customer's owner.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.permissions import CONTRIBUTE, can
from kehu.core.versions import check_version
from kehu.customers.models import Contact, Customer
from kehu.service.surveys import links
from kehu.service.surveys.models import (
    LEVELS,
    SCALES,
    Measure,
    Purpose,
    Survey,
    SurveyAnswer,
    SurveyInvitation,
    SurveyQuestion,
    SurveyResponse,
)
from kehu.tasks.models import TaskPriority, register_rule
from kehu.tasks.services import NewTask, open_tasks

LOW_SCORE_ORIGIN = "survey_low_score"
register_rule(LOW_SCORE_ORIGIN, gettext_lazy("Follow up a low satisfaction score"),
              gettext_lazy("The customer answered a satisfaction survey with a low score. "
                           "Call them, find out what went wrong and what would put it right."))
FOLLOW_UP_DAYS = 2
LANGUAGES = ("en", "zh-hans")

SURVEY_FIELDS = ("name_en", "name_zh", "intro_en", "intro_zh", "purpose", "active",
                 "every_days", "valid_days")
QUESTION_FIELDS = ("measure", "text_en", "text_zh", "required")
MAX_QUESTIONS = 30


@dataclass(frozen=True)
class Sent:
    invitation: SurveyInvitation
    url: str  # the link to pass on to the customer


class AnswerRefused(ServiceError):
    """The link cannot take answers (any more): `reason` is "answered" or "expired"."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def is_low(scores: Mapping[str, float | None]) -> bool:
    """A low score calls for a follow-up: satisfaction 2 or less of 5, a detractor on the
    recommendation scale (0–6 of 10), a level of satisfaction at 2 or less, or an intention
    to buy again of 4 or less."""
    def at_most(key: str, limit: float) -> bool:
        value = scores.get(key)
        return value is not None and value <= limit

    return (at_most(Measure.CSAT, 2) or at_most(Measure.NPS, 6)
            or any(at_most(level, 2) for level in LEVELS) or at_most(Measure.BUY_AGAIN, 4))


# Surveys -----------------------------------------------------------------------------------

def _may_manage(user: User) -> None:
    if not policy.may_manage_surveys(user):
        raise NotPermitted(_("Only managers and admins may change surveys."))


def _check_fields(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ServiceError(_("Unknown field."), field=sorted(unknown)[0])


def _clean(obj, exclude: Iterable[str] = ()) -> None:
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname)
        if isinstance(value, str):
            setattr(obj, f.attname, value.strip())
    obj.full_clean(exclude=list(exclude), validate_unique=False)


def _check_one_active(survey: Survey) -> None:
    if survey.active and survey.purpose != Purpose.BY_HAND and Survey.objects.filter(
            active=True, purpose=survey.purpose).exclude(pk=survey.pk).exists():
        raise ServiceError(_("Another active survey is already sent %(when)s; make that one "
                             "inactive first.")
                           % {"when": Purpose(survey.purpose).label.lower()}, field="active")


def _write_questions(survey: Survey, questions: list[Mapping[str, Any]]) -> None:
    if not questions:
        raise ServiceError(_("A survey needs at least one question."), field="questions")
    if len(questions) > MAX_QUESTIONS:
        raise ServiceError(_("A survey has at most %(n)d questions.") % {"n": MAX_QUESTIONS},
                           field="questions")
    keep = []
    for position, data in enumerate(questions, start=1):
        _check_fields(data, (*QUESTION_FIELDS, "id"))
        pk = data.get("id")
        question = survey.questions.filter(pk=pk).first() if pk else None
        if pk and question is None:
            raise ServiceError(_("Question %(n)d is not a question of this survey.")
                               % {"n": position}, field="questions")
        question = question or SurveyQuestion(survey=survey)
        for key in QUESTION_FIELDS:
            if key in data:
                setattr(question, key, data[key])
        question.position = position
        try:
            _clean(question, exclude=["survey"])
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise ServiceError(_("Question %(n)d: %(error)s")
                               % {"n": position, "error": " ".join(messages)},
                               field="questions") from None
        question.save()
        keep.append(question.pk)
    survey.questions.exclude(pk__in=keep).delete()


@transaction.atomic
def create_survey(user: User, data: Mapping[str, Any], questions: list[Mapping[str, Any]], *,
                  ip: str | None = None, via: str = "web") -> Survey:
    """A new survey with its questions, in the order given."""
    _may_manage(user)
    _check_fields(data, SURVEY_FIELDS)
    survey = Survey(created_by=user, **data)
    _check_one_active(survey)
    _clean(survey, exclude=["created_by"])
    survey._history_user = user
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError:
        _check_one_active(survey)
        raise
    _write_questions(survey, questions)
    record(user, "survey.create", obj=survey, detail={"name": survey.name_en}, ip=ip, via=via)
    return survey


@transaction.atomic
def update_survey(user: User, survey: Survey, data: Mapping[str, Any],
                  questions: list[Mapping[str, Any]] | None = None, *,
                  expected_version: int | None = None, ip: str | None = None,
                  via: str = "web") -> Survey:
    """Change the fields given and, when `questions` is given, the questions: those with an
    `id` are changed, those without are added, the survey's others are removed (answers
    already given keep the question's words)."""
    _may_manage(user)
    _check_fields(data, SURVEY_FIELDS)
    survey = Survey.objects.select_for_update().get(pk=survey.pk)
    check_version(survey, expected_version, _("survey"))
    changed = sorted(k for k in data if getattr(survey, k) != data[k])
    for key, value in data.items():
        setattr(survey, key, value)
    _check_one_active(survey)
    _clean(survey, exclude=["created_by"])
    if questions is not None:
        _write_questions(survey, list(questions))
        changed.append("questions")
    survey.version += 1
    survey._history_user = user
    survey.save()
    record(user, "survey.update", obj=survey, detail={"fields": changed}, ip=ip, via=via)
    return survey


# Invitations -------------------------------------------------------------------------------

def _email(invitation: SurveyInvitation, url: str) -> None:
    with translation.override(invitation.language):
        survey = invitation.survey
        subject = _("%(survey)s: a minute of your time") % {"survey": survey.name}
        greeting = (_("Dear %(name)s,") % {"name": invitation.contact.name}
                    if invitation.contact else _("Hello,"))
        body = "\n\n".join(p for p in (
            greeting, survey.intro,
            _("Please tell us how we did: it takes a minute, on a phone too."), url,
            _("The link works once and until %(date)s.") % {
                "date": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d")},
        ) if p)
    EmailMessage(" ".join(subject.split()), body, settings.DEFAULT_FROM_EMAIL,
                 [invitation.emailed_to]).send()


def _invite(survey: Survey, customer: Customer, contact: Contact | None, reason: str,
            by: User | None, now: dt.datetime, language: str, ticket=None,
            email: bool = True) -> Sent:
    survey = Survey.objects.get(pk=survey.pk)  # as it is now, not as the caller read it
    if not survey.active:
        raise ServiceError(_("This survey is not active."), field="survey")
    if not survey.questions.exists():
        raise ServiceError(_("This survey has no questions yet."), field="survey")
    if contact is not None and contact.customer_id != customer.pk:
        raise ServiceError(_("This contact is not one of the customer's."), field="contact")
    if language not in LANGUAGES:
        raise ServiceError(_("Choose English or Chinese."), field="language")
    if contact is None:
        contact = customer.contacts.exclude(email="").order_by("-is_primary", "id").first()
    invitation = SurveyInvitation.objects.create(
        survey=survey, customer=customer, contact=contact, reason=reason, ticket=ticket,
        nonce=secrets.token_hex(16), language=language, sent_at=now,
        expires_at=now + dt.timedelta(days=survey.valid_days),
        emailed_to=(contact.email if contact and email else "") or "", created_by=by)
    url = links.url_for(invitation)
    if invitation.emailed_to and email:
        transaction.on_commit(lambda: _email(invitation, url))
    return Sent(invitation, url)


@transaction.atomic
def send_survey(user: User, survey: Survey, customer: Customer, *,
                contact: Contact | None = None, language: str = "zh-hans",
                now: dt.datetime | None = None, email: bool = True, ip: str | None = None,
                via: str = "web") -> Sent:
    """Invite `customer` to answer `survey`: the link goes by e-mail to `contact` (or to the
    customer's primary contact with an address) and is returned to pass on otherwise (and
    always, with `email` False)."""
    if not can(user, CONTRIBUTE, customer):
        raise NotPermitted(_("You may not send surveys to this customer."))
    sent = _invite(survey, customer, contact, Purpose.BY_HAND, user, now or timezone.now(),
                   language, email=email)
    record(user, "survey.send", obj=sent.invitation, customer_id=customer.pk,
           detail={"survey": survey.pk, "emailed": bool(sent.invitation.emailed_to)},
           ip=ip, via=via)
    return sent


@transaction.atomic
def invite_after_ticket(ticket, *, now: dt.datetime | None = None) -> Sent | None:
    """The active after-ticket survey to the customer (the ticket's contact first) when a
    ticket is closed; once per ticket. None when there is no such survey or the ticket's
    customer was asked already."""
    survey = Survey.objects.filter(active=True, purpose=Purpose.AFTER_TICKET).first()
    if survey is None or not survey.questions.exists() or \
            SurveyInvitation.objects.filter(ticket_id=ticket.pk).exists():
        return None
    contact = ticket.contact if ticket.contact_id else None
    sent = _invite(survey, ticket.customer, contact, Purpose.AFTER_TICKET, None,
                   now or timezone.now(), settings.LANGUAGE_CODE
                   if settings.LANGUAGE_CODE in LANGUAGES else "zh-hans", ticket=ticket)
    record(None, "survey.send", obj=sent.invitation, customer_id=ticket.customer_id,
           detail={"survey": survey.pk, "ticket": ticket.pk,
                   "emailed": bool(sent.invitation.emailed_to)}, via="system")
    return sent


@transaction.atomic
def invite_key_customers(today: dt.date, key_customer_ids: Iterable[int]) -> int:
    """The periodic survey to each key customer not asked within the survey's interval.
    Returns how many were invited."""
    survey = Survey.objects.filter(active=True, purpose=Purpose.KEY_CUSTOMERS).first()
    if survey is None or not survey.questions.exists():
        return 0
    tz = timezone.get_current_timezone()
    now = max(timezone.now(), dt.datetime.combine(today, dt.time(9), tzinfo=tz)) \
        if today >= timezone.localdate() else dt.datetime.combine(today, dt.time(9), tzinfo=tz)
    since = now - dt.timedelta(days=survey.every_days)
    ids = set(key_customer_ids)
    asked = set(SurveyInvitation.objects.filter(survey=survey, customer_id__in=ids,
                                                sent_at__gt=since)
                .values_list("customer_id", flat=True))
    language = settings.LANGUAGE_CODE if settings.LANGUAGE_CODE in LANGUAGES else "zh-hans"
    made = 0
    for customer in Customer.objects.filter(pk__in=ids - asked).order_by("pk"):
        sent = _invite(survey, customer, None, Purpose.KEY_CUSTOMERS, None, now, language)
        record(None, "survey.send", obj=sent.invitation, customer_id=customer.pk,
               detail={"survey": survey.pk, "emailed": bool(sent.invitation.emailed_to)},
               via="system")
        made += 1
    return made


# Answers -----------------------------------------------------------------------------------

def _parse(question: SurveyQuestion, raw: Any) -> tuple[int | None, str]:
    """(score, text) of one answer; ServiceError naming the question when it is wrong."""
    field = f"q{question.pk}"
    if question.measure == Measure.COMMENT:
        text = str(raw or "").strip()
        if len(text) > 2000:
            raise ServiceError(_("Please keep the comment under 2000 characters."), field=field)
        if question.required and not text:
            raise ServiceError(_("Please answer this question."), field=field)
        return None, text
    if raw is None or str(raw).strip() == "":
        if question.required:
            raise ServiceError(_("Please choose a score."), field=field)
        return None, ""
    low, high = SCALES[question.measure]
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ServiceError(_("Choose a score from %(low)d to %(high)d.")
                           % {"low": low, "high": high}, field=field)
    return value, ""


@transaction.atomic
def submit_answers(invitation: SurveyInvitation, answers: Mapping[str, Any], *,
                   now: dt.datetime | None = None, ip: str | None = None) -> SurveyResponse:
    """The customer's answers to the invitation's survey, `answers` keyed "q<question id>".
    Refused (AnswerRefused) once answered or after the link expired."""
    now = now or timezone.now()
    invitation = SurveyInvitation.objects.select_for_update().select_related(
        "survey", "customer").get(pk=invitation.pk)
    if invitation.answered_at is not None:
        raise AnswerRefused(_("This survey has already been answered. Thank you!"), "answered")
    if invitation.expires_at <= now:
        raise AnswerRefused(_("This survey link has expired."), "expired")
    questions = list(invitation.survey.questions.all())
    rows, by_measure, comments = [], {}, []
    for question in questions:
        value, text = _parse(question, answers.get(f"q{question.pk}"))
        if value is None and not text:
            continue
        rows.append(SurveyAnswer(question=question, measure=question.measure,
                                 text_en=question.text_en, text_zh=question.text_zh,
                                 value=value, text=text))
        if value is not None:
            by_measure.setdefault(question.measure, []).append(value)
        if text:
            comments.append(text)
    if not rows:
        raise ServiceError(_("Please answer at least one question."))
    scores = {m: sum(v) / len(v) for m, v in by_measure.items()}
    response = SurveyResponse.objects.create(
        invitation=invitation, survey=invitation.survey, customer=invitation.customer,
        answered_at=now, comment="\n\n".join(comments), low=is_low(scores),
        **{m: scores.get(m) for m in SCALES})
    for row in rows:
        row.response = response
    SurveyAnswer.objects.bulk_create(rows)
    invitation.answered_at = now
    invitation.save(update_fields=["answered_at"])
    customer = invitation.customer
    if response.low:
        shown = ", ".join(f"{Measure(m).label} {scores[m]:g}" for m in SCALES if m in scores)
        with translation.override(settings.LANGUAGE_CODE):
            open_tasks([NewTask(
                customer_id=customer.pk, assignee_id=customer.owner_id,
                title=str(gettext_lazy("Follow up a low satisfaction score")),
                origin=LOW_SCORE_ORIGIN, reason=shown,
                due_on=timezone.localdate(now) + dt.timedelta(days=FOLLOW_UP_DAYS),
                priority=TaskPriority.HIGH)])
    record(None, "survey.answer", obj=response, customer_id=customer.pk,
           detail={"survey": invitation.survey_id, "low": response.low}, ip=ip, via="web")
    return response
