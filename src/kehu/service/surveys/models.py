"""Satisfaction surveys (满意度调查): what is asked, who was invited, what they answered.

A survey is a list of questions in both languages. Each question measures one thing: overall
satisfaction (CSAT, 1–5), the likelihood to recommend us (NPS, 0–10), one of the three levels
of satisfaction of seed 000 — material (the product), spiritual (service, look, brand),
social (values, responsibility), 1–5 each — the intention to buy again (0–10), or a free
comment. A customer is invited by a signed link that works once and expires; the answers
are kept per question and, for the figures, as one score per measure on the response.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kehu.core.models import VersionedModel


class Purpose(models.TextChoices):
    """When a survey is sent."""

    AFTER_TICKET = "after_ticket", _("After a ticket is closed")
    KEY_CUSTOMERS = "key_customers", _("Periodically to key customers")
    BY_HAND = "by_hand", _("Sent by hand")


class Measure(models.TextChoices):
    """What a question measures."""

    CSAT = "csat", _("Satisfaction (CSAT)")
    NPS = "nps", _("Would recommend us (NPS)")
    MATERIAL = "material", _("Material level: the product")
    SPIRITUAL = "spiritual", _("Spiritual level: service, look, brand")
    SOCIAL = "social", _("Social level: values, responsibility")
    BUY_AGAIN = "buy_again", _("Intends to buy again")
    COMMENT = "comment", _("Comment")


# The scale of each scored measure (lowest, highest); a comment has none.
SCALES: dict[str, tuple[int, int]] = {
    Measure.CSAT: (1, 5), Measure.NPS: (0, 10), Measure.MATERIAL: (1, 5),
    Measure.SPIRITUAL: (1, 5), Measure.SOCIAL: (1, 5), Measure.BUY_AGAIN: (0, 10),
}
SCORED = tuple(SCALES)
# The three levels of satisfaction (seed 000).
LEVELS = (Measure.MATERIAL, Measure.SPIRITUAL, Measure.SOCIAL)


def _zh() -> bool:
    return (get_language() or "").lower().startswith("zh")


class Survey(VersionedModel):
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    intro_en = models.TextField(_("introduction (English)"), max_length=1000, blank=True)
    intro_zh = models.TextField(_("introduction (Chinese)"), max_length=1000, blank=True)
    purpose = models.CharField(_("sent"), max_length=20, choices=Purpose.choices,
                               default=Purpose.BY_HAND)
    active = models.BooleanField(_("active"), default=True)
    every_days = models.PositiveSmallIntegerField(
        _("ask a key customer again after (days)"), default=180,
        help_text=_("For surveys sent periodically to key customers."))
    valid_days = models.PositiveSmallIntegerField(
        _("link valid for (days)"), default=14)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["-active", "name_en", "id"]
        constraints = [
            # One active survey per automatic occasion, so that sending is unambiguous.
            models.UniqueConstraint(fields=["purpose"],
                                    condition=Q(active=True) & ~Q(purpose="by_hand"),
                                    name="service_one_active_survey_per_purpose"),
            models.CheckConstraint(condition=Q(valid_days__gte=1) & Q(every_days__gte=1),
                                   name="service_survey_days_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return (self.name_zh if _zh() else self.name_en) or self.name_en or self.name_zh

    @property
    def intro(self) -> str:
        return (self.intro_zh if _zh() else self.intro_en) or self.intro_en or self.intro_zh


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions",
                               verbose_name=_("survey"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    measure = models.CharField(_("measures"), max_length=20, choices=Measure.choices)
    text_en = models.CharField(_("question (English)"), max_length=300)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300)
    required = models.BooleanField(_("an answer is required"), default=True)

    class Meta:
        verbose_name = _("survey question")
        verbose_name_plural = _("survey questions")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def text(self) -> str:
        return (self.text_zh if _zh() else self.text_en) or self.text_en or self.text_zh

    @property
    def scale(self) -> tuple[int, int] | None:
        return SCALES.get(self.measure)


class SurveyInvitation(models.Model):
    """One customer asked to answer one survey, through a signed link that works once and
    until `expires_at`. The link carries the invitation's id and its random `nonce`, signed
    with the site's secret: a changed link fails the signature, a guessed id lacks the nonce."""

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="invitations",
                               verbose_name=_("survey"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="survey_invitations", verbose_name=_("customer"))
    contact = models.ForeignKey("customers.Contact", null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="survey_invitations",
                                verbose_name=_("contact"))
    reason = models.CharField(_("sent"), max_length=20, choices=Purpose.choices)
    ticket = models.ForeignKey("service.Ticket", null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="survey_invitations",
                               verbose_name=_("ticket"))
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    emailed_to = models.CharField(_("e-mailed to"), max_length=254, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("sent by"))

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-sent_at", "-id"]
        indexes = [models.Index(fields=["customer", "sent_at"]),
                   models.Index(fields=["survey", "customer", "sent_at"])]
        constraints = [
            # One survey per closed ticket, however often it is closed again.
            models.UniqueConstraint(fields=["ticket"], condition=models.Q(ticket__isnull=False),
                                    name="service_one_survey_per_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.survey_id} → {self.customer_id}"


class SurveyResponse(models.Model):
    """A customer's answers to one invitation, with one score per measure (the mean of the
    questions of that measure) for the figures; null where the survey did not ask or the
    customer did not answer."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE,
                                      related_name="response", verbose_name=_("invitation"))
    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses",
                               verbose_name=_("survey"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="survey_responses", verbose_name=_("customer"))
    answered_at = models.DateTimeField(_("answered at"))
    csat = models.FloatField(_("satisfaction (1–5)"), null=True, blank=True)
    nps = models.FloatField(_("would recommend us (0–10)"), null=True, blank=True)
    material = models.FloatField(_("material level (1–5)"), null=True, blank=True)
    spiritual = models.FloatField(_("spiritual level (1–5)"), null=True, blank=True)
    social = models.FloatField(_("social level (1–5)"), null=True, blank=True)
    buy_again = models.FloatField(_("intends to buy again (0–10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    low = models.BooleanField(_("low score"), default=False)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["answered_at"]),
                   models.Index(fields=["customer", "answered_at"])]

    def __str__(self) -> str:
        return f"{self.survey_id} ← {self.customer_id}"


class SurveyAnswer(models.Model):
    """One answer, with the question's words as they were asked."""

    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE,
                                 related_name="answers", verbose_name=_("response"))
    question = models.ForeignKey(SurveyQuestion, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="answers",
                                 verbose_name=_("question"))
    measure = models.CharField(_("measures"), max_length=20, choices=Measure.choices)
    text_en = models.CharField(_("question (English)"), max_length=300)
    text_zh = models.CharField(_("question (Chinese)"), max_length=300)
    value = models.SmallIntegerField(_("score"), null=True, blank=True)
    text = models.TextField(_("answer"), blank=True)

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.measure}={self.value}"

    @property
    def question_text(self) -> str:
        return (self.text_zh if _zh() else self.text_en) or self.text_en or self.text_zh
