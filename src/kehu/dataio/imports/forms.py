"""Forms of the import wizard: the upload and the choice of a field for each column."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kehu.core import policy
from kehu.dataio.imports.mapping import FIELDS, REQUIRED, field_label
from kehu.dataio.models import ImportKind


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("The file holds"))
    file = forms.FileField(label=_("File (CSV or XLSX)"),
                           help_text=_("CSV in UTF-8 or GBK with any delimiter, or an XLSX "
                                       "workbook; the first row with content is the header."))
    update_existing = forms.BooleanField(
        label=_("Update existing records"), required=False,
        help_text=_("A row that matches an existing customer (by external id, else by phone "
                    "or e-mail) or product (by code) updates it; otherwise such a row is "
                    "refused as a duplicate."))
    owner = forms.ModelChoiceField(
        label=_("Owner of new customers"), required=False, queryset=None,
        help_text=_("For customer rows without an owner column; you, if left empty."))

    def __init__(self, *args: Any, user, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, ImportKind(k).label)
                                       for k in policy.importable_kinds(user)]
        self.fields["owner"].queryset = policy.assignable_owners(user)


def field_choices(kind: str) -> list[tuple[str, str]]:
    required = set(REQUIRED[kind])
    choices = [("", str(_("— ignore this column —")))]
    for name in FIELDS[kind]:
        label = f"{capfirst(field_label(kind, name))} ({name})"
        choices.append((name, f"{label} *" if name in required else label))
    return choices


class ColumnsForm(forms.Form):
    """One choice of field per column of the file; `initial` is the automatic matching."""

    save_as = forms.CharField(
        label=_("Save this mapping as"), required=False, max_length=100,
        help_text=_("A name to reuse this mapping for the next file of the same shape."))

    def __init__(self, *args: Any, kind: str, headers: list[str], mapping: dict[str, str],
                 samples: list[dict[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.samples = samples
        choices = field_choices(kind)
        for i, header in enumerate(headers):
            self.fields[f"col{i}"] = forms.ChoiceField(
                label=header or _("(column %(n)d without a header)") % {"n": i + 1},
                choices=choices, required=False, initial=mapping.get(header) or "")

    def columns(self) -> Iterator[tuple[str, forms.BoundField, list[Any]]]:
        for i, header in enumerate(self.headers):
            yield header, self[f"col{i}"], [row.get(header, "") for row in self.samples]

    def mapping(self) -> dict[str, str]:
        return {h: self.cleaned_data.get(f"col{i}") or "" for i, h in enumerate(self.headers)}
