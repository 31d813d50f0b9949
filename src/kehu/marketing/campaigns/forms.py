"""Forms of the campaign pages: a target list (its filter's fields come from
kehu.marketing.campaigns.criteria) and a campaign."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.marketing.campaigns import criteria as criteria_module
from kehu.marketing.campaigns import selectors
from kehu.marketing.campaigns.models import (
    Campaign,
    CampaignKind,
    Channel,
    ListKind,
    TargetList,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _criterion_field(c: criteria_module.Criterion) -> forms.Field:
    if c.kind == "choice":
        return forms.ChoiceField(label=c.label, required=False,
                                 choices=[("", _("All")), *c.choices])
    if c.kind == "flag":
        return forms.BooleanField(label=c.label, required=False)
    if c.kind == "text":
        return forms.CharField(label=c.label, required=False,
                               max_length=criteria_module.TEXT_MAX)
    if c.kind == "int":
        return forms.IntegerField(label=c.label, required=False, min_value=int(c.low),
                                  max_value=int(c.high))
    if c.kind == "decimal":
        return forms.DecimalField(label=c.label, required=False, max_digits=16,
                                  decimal_places=2)
    return forms.FloatField(label=c.label, required=False, min_value=c.low, max_value=c.high)


class CriteriaForm(forms.Form):
    """The filter alone: what the live count reads while the filter is edited."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for c in criteria_module.CRITERIA:
            self.fields[c.key] = _criterion_field(c)

    def criteria(self) -> dict:
        """The valid part of the filter (an invalid value shows its error and is left out)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        out = {}
        for key in criteria_module.KEYS:
            value = data.get(key)
            if value in (None, "", False):
                continue
            out[key] = str(value) if key in ("clv_min", "clv_max") else value
        return out

    def criteria_fields(self):
        return [self[key] for key in criteria_module.KEYS]


class TargetListForm(CriteriaForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    kind = forms.ChoiceField(label=_("Kind"), choices=ListKind.choices,
                             initial=ListKind.DYNAMIC,
                             help_text=_("A dynamic list holds whoever matches the filter when "
                                         "it is used; a frozen list keeps the customers who "
                                         "match now."))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, editing: TargetList | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["name", "description", "kind"])
        if editing is not None:
            del self.fields["kind"]
            if editing.kind == ListKind.FROZEN:
                for key in criteria_module.KEYS:
                    self.fields[key].disabled = True


class CampaignForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(label=_("Channels"), choices=Channel.choices,
                                         widget=forms.SelectMultiple(
                                             attrs={"size": len(Channel.choices)}),
                                         help_text=_("Hold Ctrl (⌘ on a Mac) to choose "
                                                     "more than one."))
    target_list = forms.ModelChoiceField(label=_("Target list"), queryset=None,
                                         required=False)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Campaign
        fields = ["name", "kind", "goal", "target_list", "starts_on", "ends_on", "budget",
                  "cost", "channels", "holdout_percent", "attribution_days", "subject",
                  "message"]
        widgets = {"starts_on": DATE, "ends_on": DATE,
                   "goal": forms.Textarea(attrs={"rows": 2}),
                   "message": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = CampaignKind.choices
        self.fields["target_list"].queryset = selectors.target_lists(user).order_by("name")
        owners = policy.assignable_owners(user).filter(
            role__in=policy.CAMPAIGN_ROLES) if not policy.is_admin(user) else \
            policy.assignable_owners(user)
        self.fields["owner"].queryset = owners
        if not policy.may_reassign_customers(user):
            del self.fields["owner"]
        self.fields["message"].help_text = _(
            "The e-mail's text, or what the owners are asked to do in a personal-selling "
            "campaign. In an e-mail, {{ name }} is replaced by the customer's name.")
