"""Input for loans: the request, the decision, and the register's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kehu.loans.models import DEFAULT_DAYS, MAX_DAYS, LoanStatus
from kehu.loans.selectors import RegisterFilters
from kehu.loans.services import ASKED_FOR_MAX, NOTE_MAX, REASON_MAX

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LoanRequestForm(forms.Form):
    asked_for = forms.CharField(
        label=_("The customer you need"), max_length=ASKED_FOR_MAX,
        help_text=_("Exactly as you know it from a caller or a letter: the customer's external "
                    "id, full name, phone number or e-mail address. Something that fits "
                    "several customers reaches nobody."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}))
    reason = forms.CharField(
        label=_("Why you need it"), max_length=REASON_MAX,
        help_text=_("The owner reads this to decide."),
        widget=forms.Textarea(attrs={"rows": 3}))
    days = forms.IntegerField(label=_("For how many days"), min_value=1, max_value=MAX_DAYS,
                              initial=DEFAULT_DAYS)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["days"].help_text = gettext(
            "At most %(max)d. The loan ends by itself after this.") % {"max": MAX_DAYS}


class LoanDecisionForm(forms.Form):
    days = forms.IntegerField(
        label=_("Lend for (days)"), min_value=1, max_value=MAX_DAYS, required=False,
        help_text=_("Empty: as many as asked for."))
    note = forms.CharField(
        label=_("Note to the borrower"), max_length=NOTE_MAX, required=False,
        widget=forms.Textarea(attrs={"rows": 2}))


class RegisterFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("(any)")), *LoanStatus.choices])
    date_from = forms.DateField(label=_("From"), required=False, widget=_DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=_DATE)
    cursor = forms.CharField(required=False, max_length=500, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def filters(self) -> RegisterFilters:
        if not self.is_bound or not self.is_valid():
            return RegisterFilters()
        data = self.cleaned_data
        return RegisterFilters(status=data["status"], date_from=data["date_from"],
                               date_to=data["date_to"])

    def query(self) -> dict[str, str]:
        """The filters that are set, for links (next page, CSV)."""
        if not self.is_bound or not self.is_valid():
            return {}
        return {k: str(v) for k, v in self.cleaned_data.items() if v and k != "cursor"}
