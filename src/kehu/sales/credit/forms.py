"""Input forms of credit control: receivables, payments, incidents and the list's filters."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team, User
from kehu.customers.models import Customer, Transaction, TransactionKind
from kehu.sales.credit.figures import BUCKET_CODES
from kehu.sales.credit.models import IncidentKind, PaymentMethod

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0.01}

BUCKET_LABELS = {
    "current": _("Not yet due"),
    "1-30": _("1–30 days overdue"),
    "31-60": _("31–60 days overdue"),
    "61-90": _("61–90 days overdue"),
    "90+": _("More than 90 days overdue"),
}
assert set(BUCKET_LABELS) == set(BUCKET_CODES)


class ReceivableForm(forms.Form):
    number = forms.CharField(label=_("Invoice number"), max_length=50, required=False)
    issued_on = forms.DateField(label=_("Invoice date"), widget=_DATE)
    due_on = forms.DateField(label=_("Due date"), widget=_DATE, required=False,
                             help_text=_("Leave empty for the customer's payment terms."))
    amount = forms.DecimalField(label=_("Amount"), **_MONEY)
    transaction = forms.ModelChoiceField(label=_("Transaction"), required=False,
                                         queryset=Transaction.objects.none())
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transaction"].queryset = customer.transactions.filter(
            kind__in=[TransactionKind.ORDER, TransactionKind.INVOICE]).order_by("-date", "-id")


class ReceivableEditForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    number = forms.CharField(label=_("Invoice number"), max_length=50, required=False)
    issued_on = forms.DateField(label=_("Invoice date"), widget=_DATE)
    due_on = forms.DateField(label=_("Due date"), widget=_DATE)
    amount = forms.DecimalField(label=_("Amount"), **_MONEY)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class PaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("Payment date"), widget=_DATE,
                              initial=timezone.localdate)
    amount = forms.DecimalField(label=_("Amount"), **_MONEY)
    method = forms.ChoiceField(label=_("Method"), choices=PaymentMethod.choices,
                               initial=PaymentMethod.TRANSFER)
    reference = forms.CharField(label=_("Reference"), max_length=100, required=False)


class IncidentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentKind.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=_DATE, initial=timezone.localdate)
    description = forms.CharField(label=_("What happened"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.CharField(
        label=_("Evidence"), max_length=300, required=False,
        help_text=_("Where the proof is kept: a document number, an archive reference or a "
                    "link."))


class ReceivableFilterForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Owner"), required=False,
                                   queryset=User.objects.none(), empty_label=_("Everyone"))
    team = forms.ModelChoiceField(label=_("Team"), required=False, queryset=Team.objects.none(),
                                  empty_label=_("Every team"))
    bucket = forms.ChoiceField(label=_("Overdue"), required=False,
                               choices=[("", _("All open")), ("overdue", _("All overdue")),
                                        *BUCKET_LABELS.items()])

    def __init__(self, *args, owners, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["team"].queryset = teams
