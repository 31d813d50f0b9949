from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.marketing.consent.models import Channel, ConsentSource, ConsentStatus

SOURCES = [(v, label) for v, label in ConsentSource.choices if v != ConsentSource.UNSUBSCRIBE]


class ConsentForm(forms.Form):
    person = forms.ChoiceField(label=_("Who"))
    channel = forms.ChoiceField(label=_("Channel or use"), choices=Channel.choices)
    status = forms.ChoiceField(label=_("Answer"), choices=ConsentStatus.choices)
    source = forms.ChoiceField(label=_("How it was given"), choices=SOURCES)
    given_on = forms.DateField(label=_("Date"), required=False,
                               widget=forms.DateInput(attrs={"type": "date"}),
                               help_text=_("Default: today."))
    note = forms.CharField(label=_("Note"), max_length=300, required=False)

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        people = [("", _("The customer itself"))]
        if customer is not None:
            people += [(str(c.pk), c.name) for c in customer.contacts.order_by("name")]
        self.fields["person"].choices = people
        self.fields["person"].required = False

    def clean_given_on(self):
        day = self.cleaned_data.get("given_on")
        if day is not None and day > timezone.localdate():
            raise forms.ValidationError(_("The date of the answer cannot be in the future."))
        return day
