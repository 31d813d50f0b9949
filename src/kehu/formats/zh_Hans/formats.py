"""Simplified Chinese as Django has it, but with amounts grouped by thousands (千分位,
1,234,567.89), as Chinese invoices and accounting software write them; Django's default
writes no separator at all."""

from django.conf.locale.zh_Hans.formats import *  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
