"""Input of the offer pages: redeeming a coupon, the offer settings and a coupon tier."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.analytics.models import ValueSegment
from kehu.customers.models import Transaction, TransactionKind
from kehu.marketing.offers.models import CouponTier, OfferSettings


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Coupon code"), max_length=20)
    transaction = forms.ModelChoiceField(label=_("Transaction"),
                                         queryset=Transaction.objects.none(), empty_label=None)

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        qs = Transaction.objects.none()
        if customer is not None:
            qs = (Transaction.objects.filter(customer=customer, coupon__isnull=True)
                  .exclude(kind=TransactionKind.RETURN).order_by("-date", "-id"))
        self.fields["transaction"].queryset = qs
        self.fields["transaction"].label_from_instance = (
            lambda t: f"{t.date:%Y-%m-%d} {t.number or '#' + str(t.pk)} · {t.amount}")


class OfferSettingsForm(forms.ModelForm):
    class Meta:
        model = OfferSettings
        fields = ("spend_threshold", "spend_weeks", "every_weeks", "due_items",
                  "suggested_items", "min_purchase_days")


class CouponTierForm(forms.ModelForm):
    segment_choices = forms.MultipleChoiceField(
        label=_("Value segments"), choices=ValueSegment.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any segment."))

    class Meta:
        model = CouponTier
        fields = ("name_en", "name_zh", "min_loyalty", "discount_percent", "min_order",
                  "valid_days", "active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["segment_choices"].initial = self.instance.segment_list

    def tier_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["segments"] = ",".join(data.pop("segment_choices"))
        return data
