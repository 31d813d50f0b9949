"""Input forms for the customer card. Validation that needs the database or the user's rights
lives in the services; `apply_service_error` puts what they refuse next to the right field,
and `submit` is how every edit page hands a posted form to its service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team, User
from kehu.core import policy
from kehu.core.errors import ServiceError, StaleVersion
from kehu.core.widgets import QuickSelect
from kehu.customers.models import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    SENSITIVE_CONTACT_FIELDS,
    SENSITIVE_CUSTOMER_FIELDS,
    Contact,
    Customer,
    CustomerNature,
    LifecycleState,
    Product,
    ServiceGroup,
    TransactionKind,
)
from kehu.customers.search import QUERY_MAX_LENGTH
from kehu.customers.selectors import SORTS, CustomerFilters, value_choices

# The four groups of the customer data card (客户资料卡), in the order the card shows them.
CARD_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("base", _("Base data"), (
        "kind", "name", "external_id", "phone", "mobile", "email", "website", "province", "city",
        "address", "legal_representative", "legal_rep_personality", "legal_rep_interests",
        "legal_rep_birth_year", "founded_on", "trading_since", "organisation_form",
        "registered_capital")),
    ("characteristics", _("Characteristics"), (
        "nature", "industry", "size", "service_group", "service_area", "sales_capacity",
        "development_potential", "business_philosophy", "business_style")),
    ("business", _("Business status"), (
        "sales_performance", "staff_quality", "competitor_relations", "cooperation_attitude")),
    ("transaction", _("Transaction status"), (
        "current_activity", "problems", "strengths", "reputation", "trade_terms",
        "credit_rating", "credit_limit", "payment_terms_days")),
)
assert {f for _k, _l, fs in CARD_GROUPS for f in fs} == set(CUSTOMER_FIELDS), \
    "every editable customer field belongs to one card group"

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TEXT_ROWS = 3


def visible_customer_fields(user) -> list[str]:
    hidden = set() if user.sees_sensitive else set(SENSITIVE_CUSTOMER_FIELDS)
    return [f for f in CUSTOMER_FIELDS if f not in hidden]


def apply_service_error(form: forms.BaseForm, error: Exception) -> None:
    """Show a service's ValidationError or ServiceError on the form field it names."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
        else:
            form.add_error(None, error.messages)
    elif isinstance(error, ServiceError):
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)
    else:
        raise error


@dataclass(frozen=True)
class Submission:
    """What became of a posted form: saved (with what the service returned), refused because
    someone else saved first, or still to be corrected."""

    posted: bool
    saved: bool = False
    conflict: bool = False
    result: Any = None

    @property
    def status(self) -> int:
        """409 after a stale save, 400 for input to correct, 200 for a page merely shown."""
        return 409 if self.conflict else 400 if self.posted else 200


def submit(request, form: forms.BaseForm, save: Callable[[dict], Any],
           on_stale: Callable[[StaleVersion], None] | None = None) -> Submission:
    """Validate a posted form and hand its cleaned data to a service. When the record changed
    since the user loaded it, everything typed stays in the form beside a message naming who
    changed it, and the form now carries the current version: saving again is a deliberate
    choice, never a silent loss on either side. A service's refusal lands on its field."""
    if request.method != "POST":
        return Submission(posted=False)
    if not form.is_valid():
        return Submission(posted=True)
    try:
        result = save(form.cleaned_data)
    except StaleVersion as e:
        form.add_error(None, e.message)
        if on_stale is not None:
            on_stale(e)
        form.data = form.data.copy()
        form.data["version"] = str(e.current_version)
        return Submission(posted=True, conflict=True)
    except (ValidationError, ServiceError) as e:
        apply_service_error(form, e)
        return Submission(posted=True)
    return Submission(posted=True, saved=True, result=result)


def name_blank_choices(form: forms.BaseForm) -> None:
    """Say "(not set)" where Django's selects offer "---------" for an empty choice."""
    for field in form.fields.values():
        if isinstance(field, forms.ModelChoiceField):
            if field.empty_label is not None:
                field.empty_label = _("(not set)")
        elif isinstance(field, forms.ChoiceField):
            choices = list(field.choices)
            if choices and choices[0] == ("", "---------"):
                field.choices = [("", _("(not set)")), *choices[1:]]


class CustomerForm(forms.ModelForm):
    """The data card. Sensitive fields exist only for users in the sensitive tier, so the
    others can neither see nor post them."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS
        widgets = {
            "founded_on": _DATE, "trading_since": _DATE,
            **{f: forms.Textarea(attrs={"rows": _TEXT_ROWS}) for f in (
                "development_potential", "business_philosophy", "sales_performance",
                "competitor_relations", "cooperation_attitude", "current_activity", "problems",
                "strengths", "legal_rep_personality",
                "legal_rep_interests")},
        }

    def __init__(self, *args, user, with_owner: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for name in set(self.fields) - set(visible_customer_fields(user)) - {"version"}:
            del self.fields[name]
        if self.instance.pk is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version
        if with_owner:
            self.fields["owner"] = forms.ModelChoiceField(
                label=_("Owner"), queryset=policy.assignable_owners(user), initial=user.pk,
                help_text=_("The person responsible for this customer (专人负责)."))
        name_blank_choices(self)

    def groups(self) -> list[tuple[str, str, list]]:
        """(key, label, [(bound field, value saved now or None)]) per card group. The saved
        value is set only after an edit conflict, for the fields where it differs."""
        saved_now = getattr(self, "saved_now", {})
        out = []
        for key, label, names in CARD_GROUPS:
            bound = [(self[n], saved_now.get(n)) for n in names if n in self.fields]
            if key == "base" and "owner" in self.fields:
                bound.append((self["owner"], None))
            out.append((key, label, bound))
        return out

    def service_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in visible_customer_fields(self.user)
                if f in self.cleaned_data}


class LifecycleForm(forms.Form):
    state = forms.ChoiceField(label=_("New lifecycle state"), choices=LifecycleState.choices)
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    lock_reason = forms.CharField(
        label=_("Lock it, because"), max_length=300, required=False,
        help_text=_("With a reason, the value refresh keeps this state instead of deriving "
                    "it from behaviour, until unlocked."))
    lock_until = forms.DateField(label=_("Locked until (optional)"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("lock_until") and not (data.get("lock_reason") or "").strip():
            self.add_error("lock_reason", _("Say why the state is locked: a lock needs a "
                                            "reason."))
        return data


class OwnerForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("New owner"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = policy.assignable_owners(user)


class ContactForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Contact
        fields = CONTACT_FIELDS
        widgets = {"birthday": _DATE, "notes": forms.Textarea(attrs={"rows": _TEXT_ROWS}),
                   "personal_interests": forms.Textarea(attrs={"rows": _TEXT_ROWS})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if not user.sees_sensitive:
            for name in SENSITIVE_CONTACT_FIELDS:
                del self.fields[name]
        if self.instance.pk is None:
            del self.fields["version"]
        else:
            self.fields["version"].initial = self.instance.version
        name_blank_choices(self)

    def service_data(self) -> dict:
        return {f: self.cleaned_data[f] for f in CONTACT_FIELDS if f in self.cleaned_data}


class TransactionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=_DATE)
    kind = forms.ChoiceField(label=_("Kind"), choices=TransactionKind.choices,
                             initial=TransactionKind.ORDER)
    number = forms.CharField(label=_("Number"), max_length=50, required=False)
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2,
                                required=False,
                                help_text=_("Leave empty when you enter line items."))
    cost = forms.DecimalField(label=_("Cost of goods"), max_digits=14, decimal_places=2,
                              required=False)
    notes = forms.CharField(label=_("Notes"), max_length=300, required=False)


class TransactionLineForm(forms.Form):
    product = forms.ModelChoiceField(label=_("Product"), required=False,
                                     queryset=Product.objects.filter(active=True))
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=12, decimal_places=3,
                                  required=False)
    unit_price = forms.DecimalField(label=_("Unit price"), max_digits=14, decimal_places=2,
                                    required=False)
    unit_cost = forms.DecimalField(label=_("Unit cost"), max_digits=14, decimal_places=2,
                                   required=False)

    def clean(self):
        data = super().clean()
        filled = any(data.get(f) not in (None, "") for f in self.fields)
        if filled and data.get("quantity") in (None, ""):
            self.add_error("quantity", _("Enter a quantity for this line."))
        if filled and not data.get("product") and data.get("unit_price") is None:
            self.add_error("unit_price", _("Enter a unit price or choose a product."))
        return data

    def service_line(self) -> dict | None:
        data = self.cleaned_data
        if not data or data.get("quantity") is None:
            return None
        line = {"product": data.get("product"), "description": data.get("description", ""),
                "quantity": data["quantity"]}
        for f in ("unit_price", "unit_cost"):
            if data.get(f) is not None:
                line[f] = data[f]
        return line


TransactionLineFormSet = forms.formset_factory(TransactionLineForm, extra=3, max_num=50,
                                               validate_max=True)


class CustomerFilterForm(forms.Form):
    """The list's query string. Values that do not validate are left out of cleaned_data
    (Django drops them), so a bad link filters by what was valid instead of failing."""

    q = forms.CharField(label=_("Search"), required=False, max_length=QUERY_MAX_LENGTH,
                        error_messages={"max_length": _(
                            "The search is too long: at most %(limit_value)d characters (it "
                            "has %(show_value)d).")})
    state = forms.ChoiceField(label=_("Lifecycle state"), required=False, widget=QuickSelect)
    owner = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int,
                                   empty_value=None, widget=QuickSelect)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None,
                                  widget=QuickSelect)
    nature = forms.ChoiceField(label=_("Customer nature"), required=False, widget=QuickSelect)
    service_group = forms.ChoiceField(label=_("Service group"), required=False, widget=QuickSelect)
    stale = forms.BooleanField(label=_("Stale data only"), required=False)
    segment = forms.ChoiceField(label=_("Value segment"), required=False, widget=QuickSelect)
    quadrant = forms.ChoiceField(label=_("Volume × loyalty"), required=False, widget=QuickSelect)
    p_alive_min = forms.FloatField(label=_("P(alive) from"), required=False, min_value=0,
                                   max_value=1)
    p_alive_max = forms.FloatField(label=_("P(alive) to"), required=False, min_value=0,
                                   max_value=1)
    clv_min = forms.DecimalField(label=_("CLV from"), required=False, max_digits=16,
                                 decimal_places=2)
    clv_max = forms.DecimalField(label=_("CLV to"), required=False, max_digits=16,
                                 decimal_places=2)
    at_risk = forms.BooleanField(label=_("At risk only"), required=False)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "asc"), ("desc", "desc")])
    cursor = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        every = [("", _("All"))]
        self.fields["state"].choices = every + list(LifecycleState.choices)
        self.fields["nature"].choices = every + list(CustomerNature.choices)
        self.fields["service_group"].choices = every + list(ServiceGroup.choices)
        self.fields["segment"].choices = every + value_choices("segment")
        self.fields["quadrant"].choices = every + value_choices("quadrant")
        owners = User.objects.filter(is_active=True)
        teams = Team.objects.all()
        if not policy.is_admin(user):
            owners = owners.filter(team_id=user.team_id) if user.team_id else owners.filter(
                pk=user.pk)
            teams = teams.filter(pk=user.team_id)
        self.fields["owner"].choices = every + [(u.pk, str(u)) for u in owners]
        self.fields["team"].choices = every + [(t.pk, t.name) for t in teams]

    FILTER_FIELDS = ("q", "state", "owner", "team", "nature", "service_group", "stale",
                     "segment", "quadrant", "p_alive_min", "p_alive_max", "clv_min",
                     "clv_max", "at_risk")

    def search_error(self) -> str | None:
        """Why the search cannot run (it is too long), or None. Unlike a bad filter value,
        which is left out, a search left out would list every customer as a result."""
        self.is_valid()
        errors = self.errors.get("q") if self.is_bound else None
        return errors[0] if errors else None

    def filters(self) -> CustomerFilters:
        """The valid part of the query as selector filters (invalid values are left out)."""
        self.is_valid()
        data = self.cleaned_data if self.is_bound else {}
        return CustomerFilters(**{
            name: data[name] for name in self.FILTER_FIELDS if _given(data.get(name))})

    def query(self) -> dict[str, str]:
        """The valid filters as query parameters, for links that keep them."""
        f = self.filters()
        out = {}
        for name in self.FILTER_FIELDS:
            value = getattr(f, name)
            if _given(value):
                out[name] = "1" if value is True else str(value)
        return out


def _given(value) -> bool:
    """A filter value the user set: 0 and 0.0 are values, unlike None, "" and False."""
    return not (value is None or value is False or value == "")
