"""Input forms of the pipeline."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team
from kehu.core import policy
from kehu.customers.models import Product
from kehu.sales.models import Competitor
from kehu.sales.pipeline.models import LostReason, Stage
from kehu.sales.pipeline.selectors import month_bounds


class FilterForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), required=False,
                                   queryset=get_user_model().objects.none(),
                                   empty_label=_("Everyone"))
    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.all(),
                                  empty_label=_("Every team"))
    stage = forms.ModelChoiceField(label=_("Stage"), required=False,
                                   queryset=Stage.objects.all(), empty_label=_("Every stage"))
    close_month = forms.CharField(label=_("Close month"), required=False, max_length=7,
                                  widget=forms.TextInput(attrs={"type": "month"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = policy.assignable_owners(user).order_by("username")
        self.fields["owner"].label_from_instance = str
        self.fields["stage"].label_from_instance = lambda s: s.name

    def clean_close_month(self) -> str:
        value = self.cleaned_data["close_month"].strip()
        if value:
            try:
                month_bounds(value)
            except (ValueError, TypeError):
                raise forms.ValidationError(_("Give the month as YYYY-MM, e.g. 2026-12.")) \
                    from None
        return value


class OpportunityForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.all(),
                                   empty_label=None)
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14,
                                decimal_places=2)
    expected_close = forms.DateField(label=_("Expected close date"),
                                     widget=forms.DateInput(attrs={"type": "date"},
                                                            format="%Y-%m-%d"))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=get_user_model().objects.none(),
                                   empty_label=None)
    products = forms.ModelMultipleChoiceField(
        label=_("Products"), required=False,
        queryset=Product.objects.filter(active=True), widget=forms.SelectMultiple(
            attrs={"size": 5}))
    competitors = forms.ModelMultipleChoiceField(
        label=_("Competitors involved"), required=False, queryset=Competitor.objects.all(),
        widget=forms.SelectMultiple(attrs={"size": 5}))
    lost_reason = forms.ChoiceField(label=_("Lost reason"), required=False,
                                    choices=[("", "—"), *LostReason.choices],
                                    help_text=_("Required when the stage is “lost”."))
    lost_note = forms.CharField(label=_("Why it was lost"), required=False, max_length=300)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = policy.assignable_owners(user).order_by("username")
        self.fields["owner"].label_from_instance = str
        self.fields["stage"].label_from_instance = \
            lambda s: f"{s.name} ({s.probability} %)"
        self.fields["products"].label_from_instance = lambda p: f"{p.code} {p.name}"


class MoveForm(forms.Form):
    stage = forms.ModelChoiceField(queryset=Stage.objects.all())
    version = forms.IntegerField(min_value=1)
    lost_reason = forms.ChoiceField(required=False, choices=[("", "—"), *LostReason.choices])


class StageForm(forms.Form):
    name_en = forms.CharField(label=_("Name (English)"), max_length=60, required=False)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=60, required=False)
    order = forms.IntegerField(label=_("Position"), min_value=0, max_value=30000, initial=50)
    probability = forms.IntegerField(label=_("Win probability (%)"), min_value=0,
                                     max_value=100)


class StaleForm(forms.Form):
    stale_after_days = forms.IntegerField(label=_("Stale after (days)"), min_value=1,
                                          max_value=365)


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    notes = forms.CharField(label=_("Notes"), required=False,
                            widget=forms.Textarea(attrs={"rows": 2}))
