"""Input of the survey pages: a survey with its questions, sending one to a customer, the
customer's answers on the public page, and the results' filter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.service.surveys.models import SCALES, Measure, Survey, SurveyQuestion
from kehu.service.surveys.services import SURVEY_FIELDS


class SurveyForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Survey
        fields = SURVEY_FIELDS
        widgets = {"intro_en": forms.Textarea(attrs={"rows": 2}),
                   "intro_zh": forms.Textarea(attrs={"rows": 2})}


class QuestionForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    measure = forms.ChoiceField(label=_("Measures"), choices=[("", "—"), *Measure.choices],
                                required=False)
    text_en = forms.CharField(label=_("Question (English)"), max_length=300, required=False)
    text_zh = forms.CharField(label=_("Question (Chinese)"), max_length=300, required=False)
    required = forms.BooleanField(label=_("An answer is required"), required=False,
                                  initial=True)

    def clean(self):
        data = super().clean()
        if self.cleaned_data.get("DELETE"):
            return data
        filled = data.get("measure") or data.get("text_en") or data.get("text_zh")
        if filled:
            for key in ("measure", "text_en", "text_zh"):
                if not data.get(key):
                    self.add_error(key, _("Fill in the question in both languages and what "
                                          "it measures."))
        return data

    def question(self) -> dict | None:
        """The question's data for the service, None for a blank or deleted row."""
        data = self.cleaned_data
        if not data or data.get("DELETE") or not data.get("measure"):
            return None
        out = {k: data[k] for k in ("measure", "text_en", "text_zh", "required")}
        if data.get("id"):
            out["id"] = data["id"]
        return out


QuestionFormSet = forms.formset_factory(QuestionForm, extra=3, can_delete=True,
                                        max_num=30, validate_max=True)


def question_initial(questions: list[SurveyQuestion]) -> list[dict]:
    return [{"id": q.pk, "measure": q.measure, "text_en": q.text_en, "text_zh": q.text_zh,
             "required": q.required} for q in questions]


class SendForm(forms.Form):
    survey = forms.ModelChoiceField(label=_("Survey"), queryset=Survey.objects.none(),
                                    empty_label=None)
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=None, required=False,
                                     empty_label=_("(primary contact with an e-mail address)"))
    language = forms.ChoiceField(label=_("Language"),
                                 choices=[("zh-hans", "简体中文"), ("en", "English")])

    def __init__(self, *args, surveys, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = surveys
        self.fields["contact"].queryset = contacts


class AnswerForm(forms.Form):
    """The survey's questions: a row of scores for each scored measure, a text box for a
    comment. Field names are "q<question id>", as the service expects."""

    def __init__(self, *args, questions: list[SurveyQuestion], **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        for q in questions:
            if q.measure == Measure.COMMENT:
                field = forms.CharField(label=q.text, required=q.required, max_length=2000,
                                        widget=forms.Textarea(attrs={"rows": 4}))
            else:
                low, high = SCALES[q.measure]
                field = forms.TypedChoiceField(
                    label=q.text, required=q.required, coerce=int, empty_value=None,
                    choices=[(str(v), str(v)) for v in range(low, high + 1)],
                    widget=forms.RadioSelect,
                    error_messages={"required": _("Please choose a score.")})
            field.measure = q.measure
            field.scale = q.scale
            self.fields[f"q{q.pk}"] = field

    def full_clean(self):
        super().full_clean()
        # Each radio button of a score in error names the error list below its row.
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["aria-describedby"] = \
                    f"{self[name].auto_id}_error"


MONTHS = [(3, _("last 3 months")), (6, _("last 6 months")), (12, _("last 12 months")),
          (24, _("last 24 months"))]


class ResultsFilter(forms.Form):
    months = forms.TypedChoiceField(label=_("Period"), choices=MONTHS, coerce=int,
                                    required=False, empty_value=12, initial=12)
    survey = forms.ModelChoiceField(label=_("Survey"), queryset=Survey.objects.none(),
                                    required=False, empty_label=_("all surveys"))

    def __init__(self, *args, surveys, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["survey"].queryset = surveys
