"""Template helpers for forms."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def fields_with_errors(form) -> list:
    """The visible fields of `form` that carry an error, in form order: a long form lists
    them at its top, so an error far down the page is not missed."""
    return [field for field in form.visible_fields() if field.errors]
