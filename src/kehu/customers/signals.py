"""Events of the customers app that apps above it keep their own records in step with.

Sent inside the transaction of the change; a receiver's failure undoes the change."""

from django.dispatch import Signal

# Somebody confirmed that a customer card's key facts are still true. Arguments: customer,
# user. A receiver returns how many of its records it closed (the stale-data rule closes
# its open refresh task).
data_confirmed = Signal()

# An order, invoice or return was recorded on the card or through the API. Arguments:
# transaction, user. Credit control flags an order that takes the customer over its limit.
transaction_recorded = Signal()

# Customers were given another owner (a new owner period each). Arguments: customer_ids,
# user, at. The service–profit chain flags a key customer whose owner changed twice in a
# year.
owners_changed = Signal()
