from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.service.chain.models import ChainSettings


class ChainSettingsForm(forms.Form):
    silent_factor = forms.IntegerField(
        label=ChainSettings._meta.get_field("silent_factor").verbose_name,
        help_text=ChainSettings._meta.get_field("silent_factor").help_text,
        min_value=1, max_value=1000,
        error_messages={"invalid": _("Enter a whole number between 1 and 1000."),
                        "min_value": _("Enter a whole number between 1 and 1000."),
                        "max_value": _("Enter a whole number between 1 and 1000.")})
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
