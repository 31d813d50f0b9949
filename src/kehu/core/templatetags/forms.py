"""Template helpers for forms."""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@dataclass
class _LineField:
    """A field of one line of a formset, named with its line number in the error list."""

    id_for_label: str
    label: str
    errors: list


@register.filter
def fields_with_errors(form) -> list:
    """The visible fields of `form` that carry an error, in form order: a long form lists
    them at its top, each a link to its input, so that an error far down the page is not
    missed."""
    return [field for field in form.visible_fields() if field.errors]


@register.simple_tag(takes_context=True)
def error_fields(context, form) -> list:
    """fields_with_errors, followed by those of the lines of `formset` when the context has
    one (a transaction's line items), each named with its line number."""
    bad = fields_with_errors(form)
    formset = context.get("formset")
    for number, line in enumerate(getattr(formset, "forms", None) or [], start=1):
        bad += [_LineField(field.id_for_label,
                           _("Line %(n)s: %(label)s") % {"n": number, "label": field.label},
                           field.errors)
                for field in line.visible_fields() if field.errors]
    return bad
