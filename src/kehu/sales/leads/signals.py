"""What sales tells the apps above it. A lead converted into a customer: analytics records
the referral (the referrer's influence value) when the lead names one. Receivers run inside
the conversion's transaction, so a refused referral refuses the conversion."""

from django.dispatch import Signal

# Sent with lead=, customer=, user=, ip=, via= once the customer and its contacts exist.
lead_converted = Signal()
