"""The audit log's codes in the reader's language (see kehu.audit.labels)."""

from __future__ import annotations

from django import template

from kehu.audit import labels

register = template.Library()
register.filter("action_label", labels.action_label)
register.filter("detail_key_label", labels.detail_key_label)
register.filter("channel_label", labels.channel_label)
register.filter("detail_value", labels.detail_value)
