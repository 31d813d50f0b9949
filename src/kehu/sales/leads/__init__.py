"""Leads (线索) qualified by the MAN rule (seed 003): where each came from, who judged its
money, authority and need, what the combination prescribes, the selection checklist of seed
001 §3 with the lead score, conversion into a target customer, and the funnel."""
