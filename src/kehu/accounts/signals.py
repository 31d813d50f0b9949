"""Events of the accounts app that other apps keep their own records in step with.

Sent inside the transaction of the change; a receiver's failure undoes the change."""

from django.dispatch import Signal

# A user moved to another team (or to none). Arguments: user, actor. A receiver returns how
# many of its records followed the user (customers follow their owner's team).
user_moved_team = Signal()
