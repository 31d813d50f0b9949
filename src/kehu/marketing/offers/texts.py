"""The words of an offer list, in the reader's language: why each product is on it, the
coupon's terms, and the e-mail and CSV made of a list (the card, the printed list and the
e-mail all say the same)."""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kehu.core.money import format_money
from kehu.marketing.offers.models import Coupon, ItemKind, OfferItem, OfferList


def _day(value) -> str:
    return date_format(value, "Y-m-d") if value else ""


def item_reason(item: OfferItem) -> str:
    if item.kind == ItemKind.DUE:
        return ngettext(
            "Bought on %(n)s day, usually every %(days)s days; last on %(last)s, due again "
            "around %(due)s.",
            "Bought on %(n)s days, usually every %(days)s days; last on %(last)s, due again "
            "around %(due)s.", item.purchase_days or 0) % {
            "n": item.purchase_days, "days": item.rhythm_days, "last": _day(item.last_bought),
            "due": _day(item.due_on)}
    if item.because is not None:
        return ngettext(
            "Bought by %(percent)s%% of the customers who bought %(name)s (%(n)s customer).",
            "Bought by %(percent)s%% of the customers who bought %(name)s (%(n)s customers).",
            item.co_buyers or 0) % {"percent": item.percent, "name": item.because.name,
                                    "n": item.co_buyers}
    return _("Bought by customers who buy what you buy.")


def coupon_terms(coupon: Coupon) -> str:
    values = {"code": coupon.code, "percent": coupon.discount_percent,
              "until": _day(coupon.valid_until), "min": format_money(coupon.min_order)}
    if coupon.min_order > 0:
        return _("Coupon %(code)s: %(percent)s%% off one purchase of at least %(min)s, valid "
                 "until %(until)s.") % values
    return _("Coupon %(code)s: %(percent)s%% off one purchase, valid until %(until)s.") % values


def email_subject(offer_list: OfferList) -> str:
    return _("Your personal offers until %(date)s") % {"date": _day(offer_list.valid_until)}


def email_body(offer_list: OfferList) -> str:
    lines = [_("Dear %(name)s,") % {"name": offer_list.customer.name}, "",
             _("We picked these for you from what you buy:"), ""]
    for item in offer_list.items.all():
        lines.append(f"- {item.product.name} ({item.product.code}): "
                     f"{format_money(item.price)}")
        lines.append(f"  {item_reason(item)}")
    coupon = getattr(offer_list, "coupon", None)
    if coupon is not None:
        lines += ["", coupon_terms(coupon)]
    lines += ["", _("Prices as of %(date)s.") % {"date": _day(offer_list.as_of)}]
    return "\n".join(lines)


CSV_HEADER = ("customer_id", "customer", "list_date", "valid_until", "position", "kind",
              "product_code", "product", "price", "due_on", "reason")


def csv_rows(offer_list: OfferList) -> list[list[str]]:
    """The list as rows under CSV_HEADER; a coupon as a last row of kind "coupon"."""
    c = offer_list.customer
    head = [str(c.pk), c.name, offer_list.as_of.isoformat(), offer_list.valid_until.isoformat()]
    rows = [[*head, str(item.position), item.kind, item.product.code, item.product.name,
             str(item.price), item.due_on.isoformat() if item.due_on else "",
             item_reason(item)] for item in offer_list.items.all()]
    coupon = getattr(offer_list, "coupon", None)
    if coupon is not None:
        rows.append([*head, "", "coupon", coupon.code, coupon.tier_label, "",
                     coupon.valid_until.isoformat(), coupon_terms(coupon)])
    return rows
