from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.marketing.referrals.models import RewardKind


class CodeForm(forms.Form):
    code = forms.CharField(label=_("Referral code they came with"), max_length=20)
    referred_on = forms.DateField(label=_("Date"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}),
                                  help_text=_("Default: today."))

    def clean_referred_on(self):
        day = self.cleaned_data.get("referred_on")
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return day


class RewardForm(forms.Form):
    kind = forms.ChoiceField(label=_("Reward"), choices=RewardKind.choices)
    value = forms.DecimalField(label=_("Value"), min_value=Decimal("0"), max_digits=12,
                               decimal_places=2)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)
