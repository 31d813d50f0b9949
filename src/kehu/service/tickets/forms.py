"""Input for the ticket pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.customers.forms import name_blank_choices
from kehu.customers.models import Contact
from kehu.service.tickets.models import (
    EntryKind,
    TicketCategory,
    TicketChannel,
    TicketKind,
    TicketPriority,
    TicketStatus,
)
from kehu.service.tickets.services import MAX_MINUTES


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=TicketKind.choices,
                             initial=TicketKind.ENQUIRY)
    priority = forms.ChoiceField(label=_("Priority"), choices=TicketPriority.choices,
                                 initial=TicketPriority.NORMAL)
    category = forms.ModelChoiceField(label=_("Category"), required=False,
                                      queryset=TicketCategory.objects.order_by("order", "id"))
    channel = forms.ChoiceField(label=_("Channel"), choices=TicketChannel.choices,
                                initial=TicketChannel.PHONE)
    contact = forms.ModelChoiceField(label=_("Contact"), required=False,
                                     queryset=Contact.objects.none())
    description = forms.CharField(label=_("What the customer says"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 5}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, customer=None, **kwargs):
        super().__init__(*args, **kwargs)
        if customer is not None:
            self.fields["contact"].queryset = Contact.objects.filter(
                customer=customer).order_by("name")
        name_blank_choices(self)


class TicketEditForm(TicketForm):
    """Editing a ticket: the version it was read at must come back, or the save could
    overwrite someone else's without either of them knowing."""

    def clean_version(self):
        version = self.cleaned_data.get("version")
        if version is None:
            raise forms.ValidationError(_("This form carries no version kehu can read. "
                                          "Reload it, then make your changes again."))
        return version

    def clean(self):
        cleaned = super().clean()
        # A hidden field's error would show nowhere: say it above the form.
        if "version" in self.errors:
            self.add_error(None, self.errors.pop("version"))
        return cleaned


class NewTicketForm(TicketForm):
    assign_to_me = forms.BooleanField(label=_("I take it myself"), required=False,
                                      initial=True)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(label=_("Assignee"), required=False, queryset=None)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = policy.assignable_owners(user).order_by("username")
        self.fields["assignee"].empty_label = _("(nobody)")


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=TicketStatus.choices)
    resolution = forms.CharField(label=_("Resolution"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    first_contact = forms.ChoiceField(
        label=_("Resolved at the first contact"), required=False,
        choices=[("", _("Work it out from the history")), ("yes", _("Yes")), ("no", _("No"))])
    version = forms.IntegerField(widget=forms.HiddenInput)


class EntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EntryKind.choices,
                             initial=EntryKind.NOTE)
    body = forms.CharField(label=_("Text"), required=False,
                           widget=forms.Textarea(attrs={"rows": 3}))
    minutes = forms.IntegerField(label=_("Time spent (minutes)"), min_value=0,
                                 max_value=MAX_MINUTES, initial=0, required=False)
    waiting = forms.BooleanField(label=_("Now wait for the customer's answer"),
                                 required=False)


class QueueForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[
        ("active", _("Still open")), ("", _("All"))] + list(TicketStatus.choices))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All"))] + list(TicketKind.choices))
    priority = forms.ChoiceField(label=_("Priority"), required=False,
                                 choices=[("", _("All"))] + list(TicketPriority.choices))
    who = forms.ChoiceField(label=_("Assignee"), required=False, choices=[
        ("", _("Anybody")), ("mine", _("Mine")), ("unassigned", _("Nobody yet"))])
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("priority", _("Most pressing first")), ("oldest", _("Oldest first")),
        ("newest", _("Newest first")), ("updated", _("Recently changed")),
        ("time_left", _("Least time left first"))])
    sla = forms.ChoiceField(label=_("Service level"), required=False, choices=[
        ("", _("All")), ("breached", _("Breached")), ("at_risk", _("About to breach")),
        ("paused", _("Paused: waiting for the customer")), ("missed", _("Missed"))])


class CategoryForm(forms.Form):
    name_en = forms.CharField(label=_("Name (English)"), max_length=80, required=False)
    name_zh = forms.CharField(label=_("Name (Chinese)"), max_length=80, required=False)
    order = forms.IntegerField(label=_("Position"), min_value=0, max_value=32767, initial=50)
