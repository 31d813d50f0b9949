"""Owner continuity and the service–profit chain (DOMAIN.md §6, seeds 002 and 004).

How often a customer's owner or service contact changed, set against their satisfaction,
retention and value; the chain staff tenure → satisfaction → retention → value as figures
and charts; the flag for a key customer whose owner changed twice in a year; and the
managers' service dashboard with its estimate of silent dissatisfied customers."""
