from __future__ import annotations

from django.db.models import QuerySet

from kehu.core.permissions import VIEW, restrict
from kehu.sales.models import Activity


def activities(user, action: str = VIEW) -> QuerySet[Activity]:
    return restrict(Activity.objects.select_related("author", "contact"), user, action)
