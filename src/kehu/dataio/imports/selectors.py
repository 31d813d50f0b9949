"""Reads of import batches, duplicate pairs and data quality, each limited to what the
user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from kehu.core import policy
from kehu.dataio.models import ImportBatch


def batches(user) -> QuerySet[ImportBatch]:
    """Import batches the user ran; an admin sees everybody's (to undo them if need be)."""
    qs = ImportBatch.objects.select_related("created_by", "undone_by")
    if policy.is_admin(user):
        return qs
    return qs.filter(created_by_id=getattr(user, "pk", None))
