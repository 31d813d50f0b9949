"""Input forms of the key-account plan."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kehu.customers.forms import name_blank_choices
from kehu.sales.models import Competitor
from kehu.sales.plans.models import SHEET_FIELDS, AccountPlan, PlanCompetitor
from kehu.sales.plans.services import PLAN_FIELDS

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TEXT = {"rows": 3}


class PlanForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())

    class Meta:
        model = AccountPlan
        fields = PLAN_FIELDS
        widgets = {"review_on": _DATE, **{f: forms.Textarea(attrs=_TEXT) for f in (
            "situation", "challenges", "strategy", "decision_factors", "objectives")}}

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        keep = [self.instance.owner_id] if self.instance.pk else []
        self.fields["owner"].queryset = get_user_model().objects.filter(
            pk__in=[u.pk for u in owners] + keep)
        if self.instance.pk is None:
            del self.fields["version"]
            self.fields["owner"].initial = self.instance.customer.owner_id \
                if self.instance.customer_id else None
        else:
            self.fields["version"].initial = self.instance.version
            self.fields["owner"].initial = self.instance.owner_id
        name_blank_choices(self)

    def service_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in PLAN_FIELDS if f in self.cleaned_data}


class OrientationForm(forms.Form):
    """Record the suggested buying orientation on the plan with one button."""

    buying_orientation = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)


class SheetForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    competitor = forms.ModelChoiceField(label=_("Competitor"), required=False,
                                        queryset=Competitor.objects.none())
    new_competitor = forms.CharField(label=_("or a new competitor"), max_length=200,
                                     required=False,
                                     help_text=_("It joins the firm's list of competitors."))

    class Meta:
        model = PlanCompetitor
        fields = SHEET_FIELDS
        widgets = {f: forms.Textarea(attrs=_TEXT) for f in SHEET_FIELDS}

    def __init__(self, *args, competitors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["version"]
            self.fields["competitor"].queryset = competitors
            self.order_fields(["competitor", "new_competitor", *SHEET_FIELDS])
        else:
            del self.fields["competitor"], self.fields["new_competitor"]
            self.fields["version"].initial = self.instance.version
        name_blank_choices(self)

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("competitor") and \
                not (data.get("new_competitor") or "").strip():
            self.add_error("competitor", _("Choose a competitor from the list or name a new "
                                           "one."))
        return data

    def service_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in SHEET_FIELDS}


class StepForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label=_("Step"), max_length=200)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())
    due_on = forms.DateField(label=_("Due on"), widget=_DATE)

    def __init__(self, *args, owners, step=None, **kwargs):
        super().__init__(*args, **kwargs)
        keep = [step.owner_id] if step is not None else []
        self.fields["owner"].queryset = get_user_model().objects.filter(
            pk__in=[u.pk for u in owners] + keep)
        if step is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = step.version
            self.fields["title"].initial = step.title
            self.fields["owner"].initial = step.owner_id
            self.fields["due_on"].initial = step.due_on
        name_blank_choices(self)
