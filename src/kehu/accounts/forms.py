from __future__ import annotations

import ipaddress

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("The user name or password is wrong. Note that the password is "
                           "case-sensitive."),
        "inactive": _("This account is disabled."),
    }


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("What the token is for, e.g. “ERP sync”."))


class UnlockForm(forms.Form):
    kind = forms.ChoiceField(choices=[("address", _("Address")), ("name", _("User name"))])
    value = forms.CharField(max_length=150)

    def clean(self):
        data = super().clean()
        if data.get("kind") == "address" and data.get("value"):
            try:
                ipaddress.ip_address(data["value"])
            except ValueError:
                self.add_error("value", _("“%(value)s” is not a network address.")
                               % {"value": data["value"]})
        return data
