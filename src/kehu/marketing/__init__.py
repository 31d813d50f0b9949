"""Marketing: campaigns across the promotion mix with a measured uplift, one-to-one offers,
coupons by loyalty, referral codes, and consent enforced at send time (DOMAIN.md §8)."""
