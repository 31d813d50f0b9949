"""What tickets tell the other parts of service (SLA, surveys, knowledge, the chain). Each
is sent inside the transaction of the change, so a receiver that fails refuses the change;
receivers that only react afterwards use transaction.on_commit.

Arguments: ticket= (the saved Ticket), user= (who did it; None for e-mail intake),
and for ticket_changed, changed= (the list of what changed: field names, "status",
"entry"), and from_status= when the status changed."""

from django.dispatch import Signal

# A new ticket (from the UI, the API or an e-mail).
ticket_opened = Signal()
# Anything about an existing ticket changed: fields, assignee, status, a new entry.
ticket_changed = Signal()
# The ticket reached the status closed (sent after ticket_changed of that change).
ticket_closed = Signal()
