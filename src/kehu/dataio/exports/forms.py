"""The form of the export page: which list, which format, which dates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.dataio.exports.services import FORMATS


class ExportForm(forms.Form):
    what = forms.ChoiceField(label=_("List"), choices=[
        ("customers", _("Customers")), ("transactions", _("Transactions"))])
    format = forms.ChoiceField(label=_("Format"), choices=[(f, f.upper()) for f in FORMATS])
    date_from = forms.DateField(label=_("Transactions from"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Transactions until"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}))
