"""Refusing lost updates: a record edited by people carries a version (core.models
VersionedModel), and a save made from a stale copy is refused, naming who changed it since."""

from __future__ import annotations

from django.utils.translation import gettext as _

from kehu.core.errors import StaleVersion


def check_version(obj, expected_version: int | None, what: str) -> None:
    """Raise StaleVersion if `obj` (the current row, locked) is no longer at the version the
    user loaded. `what` names the record in the message ("customer", "contact")."""
    if expected_version is None:
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        # A form or request whose version was tampered with or mangled: the copy cannot be
        # told current, so it is refused like a stale one rather than failing.
        raise StaleVersion(
            _("This %(what)s form carries no version kehu can read. Reload it, then make "
              "your changes again.") % {"what": what},
            current_version=obj.version, changed_by=None) from None
    if expected == obj.version:
        return
    changed_by = None
    history = getattr(obj, "history", None)
    last = history.order_by("-history_date").select_related("history_user").first() \
        if history is not None else None
    if last is not None and last.history_user is not None:
        changed_by = str(last.history_user)
    raise StaleVersion(
        _("This %(what)s was changed by %(user)s since you opened it. Reload to see their "
          "changes, then make yours again.") % {"what": what, "user": changed_by or _("someone")},
        current_version=obj.version, changed_by=changed_by,
    )
