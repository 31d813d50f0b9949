"""Referrals (推荐, seed 000): a referral code per customer that a new customer names, the
referral recorded by that code (kehu.analytics.Referral, which feeds influence value),
rewards to the referrer, and the share of new customers who came by referral."""
