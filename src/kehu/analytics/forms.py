from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.analytics.models import PRESCRIBED, ValueSettings
from kehu.core import money
from kehu.tasks.models import TaskPriority

SETTINGS_FIELDS = [
    "model", "horizon_months", "monthly_discount", "churn_p_alive", "churn_inactive_days",
    "loyal_min_index", "loyal_min_purchase_days", "loyal_min_tenure_days",
    "high_current_share", "high_potential_share", "large_volume_share",
    "quadrant_loyal_index", "stale_after_days",
]


class ValueSettingsForm(forms.ModelForm):
    class Meta:
        model = ValueSettings
        fields = SETTINGS_FIELDS


class CurrencyForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=money.currency_choices,
                                 help_text=_("Every amount is shown in it; the figures "
                                             "themselves do not change."))


class ActivityCostForm(forms.Form):
    unit_cost = forms.DecimalField(label=_("Unit cost"), min_value=0, max_digits=10,
                                   decimal_places=2)
    investment = forms.BooleanField(label=_("Relationship investment"), required=False)


class SegmentActionForm(forms.Form):
    create_task = forms.BooleanField(label=_("Create a task for the owner"), required=False)
    subject = forms.CharField(label=_("Task"), max_length=200, required=False)
    due_in_days = forms.IntegerField(label=_("Due in (days)"), min_value=0, max_value=365)

    def __init__(self, *args, segment: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].widget.attrs["placeholder"] = str(
            PRESCRIBED.get(segment, ("", False))[0])


class ReferralForm(forms.Form):
    referrer = forms.CharField(label=_("Referred by"), max_length=200,
                               help_text=_("Type the referring customer's name, pinyin or "
                                           "phone and pick them from the list."))
    referrer_id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    referred_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class LoyaltyStatementForm(forms.Form):
    """What the customer said: the attitude side of loyalty (seed 001 §4)."""

    # A date input takes ISO dates whatever the reader's language.
    stated_on = forms.DateField(label=_("Stated on"),
                                widget=forms.DateInput(attrs={"type": "date"},
                                                       format="%Y-%m-%d"))
    buy_again = forms.IntegerField(label=_("Intends to buy again (0–10)"), min_value=0,
                                   max_value=10, required=False)
    recommend = forms.IntegerField(label=_("Would recommend us (0–10)"), min_value=0,
                                   max_value=10, required=False)
    wallet_share = forms.IntegerField(
        label=_("Share of wallet (%)"), min_value=0, max_value=100, required=False,
        help_text=_("Of what the customer buys in our line, the share they buy from us."))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if all(data.get(k) is None for k in ("buy_again", "recommend", "wallet_share")):
            raise forms.ValidationError(_("Give at least one of: intention to buy again, "
                                          "to recommend, share of wallet."))
        return data


class ListTasksForm(forms.Form):
    """A task for the owner of each customer of one of the dashboard's lists: the ticked
    customers, or all the list holds."""

    title = forms.CharField(label=_("Task"), max_length=200)
    due_on = forms.DateField(label=_("Due"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    priority = forms.ChoiceField(label=_("Priority"), choices=TaskPriority.choices,
                                 initial=TaskPriority.NORMAL)
    scope = forms.ChoiceField(choices=[("ticked", _("The ticked customers")),
                                       ("all", _("Every customer of the list"))],
                              initial="ticked")
    customer = forms.TypedMultipleChoiceField(coerce=int, required=False)

    def __init__(self, *args, listed: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = [(pk, pk) for pk in listed]

    def clean(self):
        data = super().clean()
        if data.get("scope") == "ticked" and not data.get("customer") \
                and "customer" not in self.errors:
            self.add_error("customer", _("Tick at least one customer, or choose every "
                                         "customer of the list."))
        return data
