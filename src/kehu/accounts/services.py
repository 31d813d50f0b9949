"""Writes to users and teams."""

from __future__ import annotations

from django.db import transaction

from kehu.accounts.models import Team, User
from kehu.accounts.signals import user_moved_team
from kehu.audit.services import record


@transaction.atomic
def move_user_to_team(actor: User | None, user: User, team: Team | None, *,
                      ip: str | None = None, via: str = "web") -> User:
    """Put a user in another team; what they own moves with them (a customer's team is
    always its owner's team: kehu.customers keeps that in step through user_moved_team)."""
    old_team_id = user.team_id
    user.team = team
    user.save(update_fields=["team"])
    followed = sum(count or 0 for _receiver, count in
                   user_moved_team.send(sender=User, user=user, actor=actor))
    record(actor, "user.team", obj=user, ip=ip, via=via, detail={
        "from": old_team_id, "to": user.team_id, "customers_moved": followed})
    return user
