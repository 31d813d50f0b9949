"""Input for the lead pages: the lead itself, the MAN judgements, the checklist, another
contact person, and the list's filters."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core import policy
from kehu.customers.models import CompanySize
from kehu.sales.leads import man
from kehu.sales.leads.models import CHECKLIST, LeadSource, LeadStatus

JUDGED = (("", _("Not judged yet")), ("yes", _("Yes")), ("no", _("No")))
KNOWN = (("", _("Not known")), ("yes", _("Yes")), ("no", _("No")))


def to_bool(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def from_bool(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


class LeadForm(forms.Form):
    name = forms.CharField(label=_("Organisation (or person)"), max_length=200)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    province = forms.CharField(label=_("Region"), max_length=50, required=False)
    city = forms.CharField(label=_("City"), max_length=50, required=False)
    size = forms.ChoiceField(label=_("Company size"), required=False,
                             choices=[("", "—"), *CompanySize.choices])
    website = forms.CharField(label=_("Website"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    source = forms.ChoiceField(label=_("Source"), choices=LeadSource.choices)
    source_detail = forms.CharField(label=_("Source details"), max_length=200, required=False,
                                    help_text=_("Which exhibition, site, intermediary or "
                                                "register."))
    referrer = forms.CharField(label=_("Referred by (customer name or external id)"),
                               max_length=200, required=False,
                               help_text=_("For a referral: the customer who referred the "
                                           "lead."))
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(
        attrs={"rows": 3}))
    money = forms.ChoiceField(label=_("Money (purchasing power)"), choices=JUDGED,
                              required=False)
    money_note = forms.CharField(label=_("Why (money)"), max_length=300, required=False)
    authority = forms.ChoiceField(label=_("Authority (decision power)"), choices=JUDGED,
                                  required=False)
    authority_note = forms.CharField(label=_("Why (authority)"), max_length=300,
                                     required=False)
    need = forms.ChoiceField(label=_("Need"), choices=JUDGED, required=False)
    need_note = forms.CharField(label=_("Why (need)"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = policy.assignable_owners(user).order_by("username")
        if not policy.may_reassign_customers(user):
            del self.fields["owner"]
        for name, label in CHECKLIST:
            self.fields[name] = forms.ChoiceField(label=label, choices=KNOWN, required=False)

    GROUPS = (
        ("organisation", _("Organisation"), ("name", "industry", "province", "city", "size",
                                              "website")),
        ("person", _("Contact person"), ("contact_name", "contact_title", "phone", "email")),
        ("source", _("Source"), ("source", "source_detail", "referrer", "owner", "notes")),
        ("man", _("MAN rule"), ("money", "money_note", "authority", "authority_note", "need",
                                "need_note")),
        ("checklist", _("Is it a good customer? (selection checklist)"),
         tuple(name for name, _label in CHECKLIST)),
    )

    def groups(self):
        return [(key, label, [self[n] for n in names if n in self.fields])
                for key, label, names in self.GROUPS]


class JudgeForm(forms.Form):
    money = forms.ChoiceField(label=_("Money (purchasing power)"), choices=JUDGED,
                              required=False)
    money_note = forms.CharField(label=_("Why (money)"), max_length=300, required=False)
    authority = forms.ChoiceField(label=_("Authority (decision power)"), choices=JUDGED,
                                  required=False)
    authority_note = forms.CharField(label=_("Why (authority)"), max_length=300,
                                     required=False)
    need = forms.ChoiceField(label=_("Need"), choices=JUDGED, required=False)
    need_note = forms.CharField(label=_("Why (need)"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def judgements(self) -> dict:
        d = self.cleaned_data
        return {f: (to_bool(d[f]), d[f"{f}_note"]) for f in ("money", "authority", "need")}


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=_("Job title"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)


class LeadFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    action = forms.ChoiceField(label=_("Queue"), required=False,
                               choices=[("", _("All")), *((c, man.ACTIONS[c].label)
                                                          for c in man.QUEUE_ORDER)])
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("All")), *LeadStatus.choices])
    source = forms.ChoiceField(label=_("Source"), required=False,
                               choices=[("", _("All")), *LeadSource.choices])


class FunnelForm(forms.Form):
    by = forms.ChoiceField(label=pgettext_lazy("funnel grouped by", "By"), required=False, choices=(
        ("source", _("Source")), ("owner", _("Owner")), ("month", _("Month"))))
    since = forms.DateField(label=_("Created from"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("Created until"), required=False,
                            widget=forms.DateInput(attrs={"type": "date"}))
