"""Input forms of the activity timeline."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.customers.models import Contact, Customer
from kehu.sales.models import ActivityKind


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=ActivityKind.choices,
                             initial=ActivityKind.NOTE)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Details"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    occurred_at = forms.DateTimeField(
        label=_("When"), required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Leave empty for now."))
    contact = forms.ModelChoiceField(label=_("Contact"), required=False,
                                     queryset=Contact.objects.none())

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = customer.contacts.all()
