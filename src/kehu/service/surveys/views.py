"""Web pages of satisfaction surveys. Thin: parse, call a selector or service, render.

- results: the figures over the user's scope (by month, segment, service group, owner), the
  low scores to follow up, and the surveys;
- survey_create / survey_edit: a survey and its questions in both languages (managers);
- survey_send: from the card's Satisfaction tab, invite the customer;
- survey_answer: the public page behind the signed link, without sign-in. It shows the
  survey and nothing else about the firm or the customer; a changed link, a used one and
  an expired one each get a page that says so.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kehu.audit.services import record_list
from kehu.core import policy
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.core.permissions import CONTRIBUTE
from kehu.core.requests import client_ip
from kehu.customers.forms import apply_service_error
from kehu.customers.selectors import contacts as scoped_contacts
from kehu.customers.views import MAX_ID, card_url, customer_for, render_card
from kehu.service.surveys import links, selectors, services
from kehu.service.surveys.forms import (
    AnswerForm,
    QuestionFormSet,
    ResultsFilter,
    SendForm,
    SurveyForm,
    question_initial,
)
from kehu.service.surveys.models import SCALES, Survey, SurveyInvitation

NAV = "service"
LOW_SHOWN = 50


def _audit(request: HttpRequest) -> dict:
    return {"ip": client_ip(request), "via": "web"}


# Results --------------------------------------------------------------------------------------

@login_required
def results(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policy.may_see_survey_results(user):
        raise PermissionDenied
    form = ResultsFilter(request.GET or None, surveys=selectors.surveys(user))
    months, survey = 12, None
    if form.is_valid():
        months = form.cleaned_data["months"] or 12
        survey = form.cleaned_data["survey"].pk if form.cleaned_data["survey"] else None
    today = timezone.localdate()
    trend = selectors.by_month(user, months, today, survey)
    period = selectors.Period(trend[0].month, today)
    low = list(selectors.response_list(user, period, low_only=True, survey=survey)
               [:LOW_SHOWN])
    record_list(user, "survey_low_scores", [r.customer_id for r in low],
                filters={"months": months, "survey": survey}, **_audit(request))
    sent, answered = selectors.response_rate(user, period, survey)
    return render(request, "service/surveys/results.html", {
        "nav": NAV, "subnav": "surveys", "form": form, "period": period, "months": months,
        "summary": selectors.summary(user, period, survey),
        "trend": trend, "segments": selectors.by_segment(user, period, survey),
        "groups": selectors.by_service_group(user, period, survey),
        "owners": selectors.by_owner(user, period, survey),
        "low": low, "sent": sent, "answered": answered,
        "surveys": selectors.surveys(user),
        "may_manage": policy.may_manage_surveys(user),
    }, status=200 if form.is_valid() or not request.GET else 400)


# Surveys ---------------------------------------------------------------------------------------

def _questions(formset) -> list[dict]:
    return [q for q in (f.question() for f in formset.forms) if q is not None]


def _survey_page(request: HttpRequest, survey: Survey | None) -> HttpResponse:
    user = request.user
    if not policy.may_manage_surveys(user):
        raise PermissionDenied
    initial = question_initial(list(survey.questions.all())) if survey else []
    if request.method == "POST":
        form = SurveyForm(request.POST, instance=survey)
        formset = QuestionFormSet(request.POST, prefix="q")
        if form.is_valid() and formset.is_valid():
            data = {k: form.cleaned_data[k] for k in services.SURVEY_FIELDS}
            try:
                if survey is None:
                    survey = services.create_survey(user, data, _questions(formset),
                                                    **_audit(request))
                    messages.success(request, _("The survey was created."))
                else:
                    services.update_survey(user, survey, data, _questions(formset),
                                           expected_version=form.cleaned_data["version"],
                                           **_audit(request))
                    messages.success(request, _("The survey was saved."))
                return redirect("service:survey_edit", survey_pk=survey.pk)
            except StaleVersion as exc:
                form.add_error(None, str(exc))
            except ServiceError as exc:
                if exc.field == "questions" or not exc.field:
                    form.add_error(None, str(exc))
                else:
                    apply_service_error(form, exc)
        status = 400
    else:
        form = SurveyForm(instance=survey, initial={"version": survey.version if survey else 1})
        formset = QuestionFormSet(initial=initial, prefix="q")
        status = 200
    return render(request, "service/surveys/survey_form.html", {
        "nav": NAV, "form": form, "formset": formset, "survey": survey,
        "scales": {k: f"{lo}–{hi}" for k, (lo, hi) in SCALES.items()},
    }, status=status)


@login_required
def survey_create(request: HttpRequest) -> HttpResponse:
    return _survey_page(request, None)


@login_required
def survey_edit(request: HttpRequest, survey_pk: int) -> HttpResponse:
    if survey_pk > MAX_ID:
        raise Http404
    try:
        survey = selectors.get_survey(request.user, survey_pk)
    except Survey.DoesNotExist:
        raise Http404 from None
    return _survey_page(request, survey)


# Sending ---------------------------------------------------------------------------------------

def send_form(request: HttpRequest, customer, data=None) -> SendForm:
    return SendForm(data, surveys=selectors.sendable_surveys(request.user),
                    contacts=scoped_contacts(request.user).filter(customer=customer),
                    initial={"language": "zh-hans"})


@login_required
@require_POST
def survey_send(request: HttpRequest, pk: int) -> HttpResponse:
    customer = customer_for(request, pk, CONTRIBUTE)
    form = send_form(request, customer, request.POST)
    if form.is_valid():
        try:
            sent = services.send_survey(request.user, form.cleaned_data["survey"], customer,
                                        contact=form.cleaned_data["contact"],
                                        language=form.cleaned_data["language"],
                                        **_audit(request))
        except NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            if sent.invitation.emailed_to:
                messages.success(request, _("The survey was e-mailed to %(address)s.")
                                 % {"address": sent.invitation.emailed_to})
            else:
                messages.success(request, _("The survey's link is ready: nobody has an e-mail "
                                            "address, so pass it on by phone or chat."))
            return redirect(card_url(customer, "surveys"))
    return render_card(request, customer, "surveys", status=400, send_form=form)


# The public page ---------------------------------------------------------------------------

def _refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    titles = {
        "bad": _("This link is not valid"),
        "answered": _("This survey has already been answered"),
        "expired": _("This survey link has expired"),
    }
    texts = {
        "bad": _("The link may have been changed or cut short on the way. Please open the "
                 "link exactly as you received it."),
        "answered": _("Each link can be answered once, and yours has been. Thank you for "
                      "your answers!"),
        "expired": _("The link was valid for a limited time only. If you would still like to "
                     "tell us something, please contact us."),
    }
    return render(request, "service/surveys/public_refused.html",
                  {"title": titles[reason], "text": texts[reason], "reason": reason},
                  status=status)


def _find(token: str) -> SurveyInvitation | None:
    try:
        pk, nonce = links.read_token(token)
    except links.BadLink:
        return None
    return SurveyInvitation.objects.select_related("survey").filter(pk=pk, nonce=nonce).first()


def _language(request: HttpRequest, invitation: SurveyInvitation) -> str:
    chosen = request.GET.get("lang", "")
    return chosen if chosen in services.LANGUAGES else invitation.language


@never_cache
def survey_answer(request: HttpRequest, survey_token: str) -> HttpResponse:
    invitation = _find(survey_token)
    if invitation is None:
        return _refused(request, "bad", 404)
    with translation.override(_language(request, invitation)):
        response = _answer_page(request, invitation)
        response["Content-Language"] = translation.get_language()
        response["Referrer-Policy"] = "same-origin"
        return response


def _answer_page(request: HttpRequest, invitation: SurveyInvitation) -> HttpResponse:
    now = timezone.now()
    if invitation.answered_at is not None:
        return _refused(request, "answered", 410)
    if invitation.expires_at <= now:
        return _refused(request, "expired", 410)
    questions = list(invitation.survey.questions.all())
    form = AnswerForm(request.POST or None, questions=questions)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.submit_answers(invitation, request.POST, ip=client_ip(request))
            except services.AnswerRefused as exc:
                return _refused(request, exc.reason, 410)
            except ServiceError as exc:
                if exc.field in form.fields:
                    form.add_error(exc.field, str(exc))
                else:
                    form.add_error(None, str(exc))
            else:
                return render(request, "service/surveys/public_thanks.html",
                              {"survey": invitation.survey})
        status = 400
    path = links.path_for(invitation)
    return render(request, "service/surveys/public_answer.html", {
        "survey": invitation.survey, "form": form, "action": request.get_full_path(),
        "lang_en": f"{path}?lang=en", "lang_zh": f"{path}?lang=zh-hans",
        "expires_on": timezone.localtime(invitation.expires_at).date(),
    }, status=status)

