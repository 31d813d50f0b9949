"""Writes to users and teams."""

from __future__ import annotations

from django.db import transaction

from kehu.accounts.models import Team, User
from kehu.audit.services import record


@transaction.atomic
def move_user_to_team(actor: User | None, user: User, team: Team | None, *,
                      ip: str | None = None, via: str = "web") -> User:
    """Put a user in another team; the customers they own move with them, since a
    customer's team is always its owner's team."""
    from kehu.customers.models import Customer

    old_team_id = user.team_id
    user.team = team
    user.save(update_fields=["team"])
    moved = Customer.objects.filter(owner=user).exclude(team_id=user.team_id).update(
        team_id=user.team_id)
    record(actor, "user.team", obj=user, ip=ip, via=via, detail={
        "from": old_team_id, "to": user.team_id, "customers_moved": moved})
    return user
