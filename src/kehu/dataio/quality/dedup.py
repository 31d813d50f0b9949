"""Finding likely duplicate customers and contacts (重复客户), at a million customers.

Comparing every customer with every other is a trillion comparisons; instead each record
gets a few blocking keys (dataio.CustomerKey / ContactKey), and only records that share a key,
or whose names sort next to each other, are compared:

- ``p:`` a phone or mobile number without +86, spaces or dashes;
- ``e:`` the e-mail address;
- ``n:`` the name without legal-form suffixes (有限公司, Co., Ltd.), case, width and spaces;
- ``y:`` that name in pinyin (same-sounding characters, a common input-method slip, match);
- ``i:`` the pinyin initials, ``s:`` the pinyin's consonant skeleton (vowel slips match);
- ``r:`` the pinyin reversed (only for the sorted pass below).

A key shared by more than MAX_BLOCK records (a switchboard number, a generic name) identifies
nobody and is skipped. Then two sorted-neighbourhood passes compare each pinyin name with its
next few neighbours in alphabetical order, forwards and reversed, which finds a slip anywhere
in a name that shares no key; both passes stream the keys in index order, so memory stays at
a window of a few rows. Every candidate pair is scored with rapidfuzz; pairs scoring at
least MIN_SCORE form the review queue. Keys are refreshed only for records changed since the
last scan. A pair marked "not a duplicate" stays so, whatever later scans find.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin
from rapidfuzz import fuzz

from kehu.accounts.models import User
from kehu.audit.services import record
from kehu.core.errors import NotPermitted
from kehu.core.jobs import Progress
from kehu.core.permissions import CHANGE, VIEW, can, customer_filter
from kehu.customers.models import Contact, Customer
from kehu.dataio import normalise
from kehu.dataio.models import (
    ContactKey,
    ContactPair,
    CustomerKey,
    CustomerPair,
    DedupScan,
    PairStatus,
)

MAX_BLOCK = 50
WINDOW = 4
MIN_SCORE = 60
# A neighbour in the sorted passes is a candidate only when this alike, so that the pairs to
# score stay few.
NEIGHBOUR_RATIO = 85
MIN_PHONE_DIGITS = 7
CHUNK = 2000

_HAN = re.compile(r"[\u3400-\u9fff]")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_VOWELS = re.compile(r"[aeiouvü]+")
_REPEATS = re.compile(r"(.)\1+")


# Keys ---------------------------------------------------------------------------------------

@lru_cache(maxsize=200_000)
def _norm(name: str) -> str:
    return normalise.company_name(name)


@lru_cache(maxsize=200_000)
def pinyin(name: str) -> str:
    """The name in toneless pinyin, lower case, letters and digits only; a name without
    Chinese characters comes back as itself in that form."""
    text = "".join(lazy_pinyin(name)) if _HAN.search(name) else name
    return _NOT_ALNUM.sub("", normalise.halfwidth(text).lower())


@lru_cache(maxsize=200_000)
def initials(name: str) -> str:
    if not _HAN.search(name):
        return ""
    return _NOT_ALNUM.sub("", "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower())


def skeleton(romanised: str) -> str:
    return _REPEATS.sub(r"\1", _VOWELS.sub("", romanised))


def phones(*numbers: str) -> set[str]:
    out = set()
    for number in numbers:
        digits = normalise.phone(number or "")
        if len(digits) >= MIN_PHONE_DIGITS:
            out.add(digits)
    return out


def name_keys(name: str, prefix: str = "") -> set[str]:
    norm = _norm(name or "")
    if len(norm) < 2:
        return set()
    keys = {f"{prefix}n:{norm}"}
    romanised = pinyin(norm)
    if len(romanised) >= 4:
        keys.add(f"{prefix}y:{romanised}")
        if not prefix:
            # Reversed, for the sorted pass that finds a slip at the start of a name.
            keys.add(f"r:{romanised[::-1]}")
        bones = skeleton(romanised)
        if len(bones) >= 4:
            keys.add(f"{prefix}s:{bones}")
    first = initials(norm)
    if len(first) >= 3:
        keys.add(f"{prefix}i:{first}")
    return keys


def customer_keys(name: str, phone: str = "", mobile: str = "", email: str = "",
                  external_id: str | None = "") -> set[str]:
    keys = {f"p:{p}" for p in phones(phone, mobile)} | name_keys(name)
    if email:
        keys.add(f"e:{normalise.email(email)}")
    if external_id:
        # Unique only within what one user sees (Customer.external_id): two customers with
        # one id are almost surely one, entered by two teams.
        keys.add(f"x:{external_id.strip().lower()}")
    return {k[:200] for k in keys}


def contact_keys(customer_id: int, name: str, phone: str = "", email: str = "") -> set[str]:
    # A name identifies a contact only within one customer: 王伟 at two firms is two people.
    keys = {f"p:{p}" for p in phones(phone)} | name_keys(name, prefix=f"c{customer_id}:")
    if email:
        keys.add(f"e:{normalise.email(email)}")
    return {k[:200] for k in keys}


# Scores -------------------------------------------------------------------------------------

@dataclass
class Match:
    score: int
    reasons: list[dict[str, Any]]


def _combine(evidence: Iterable[float]) -> float:
    """Independent pieces of evidence: 1 − Π(1 − p)."""
    missing = 1.0
    for p in evidence:
        missing *= 1.0 - p
    return 1.0 - missing


def name_similarity(a: str, b: str) -> int:
    """0–100: how alike two names are, legal-form suffixes aside: as written, as pronounced
    (same-sounding characters, an input-method slip), and in any word order."""
    na, nb = _norm(a or ""), _norm(b or "")
    if not na or not nb:
        return 0
    if na == nb:
        return 100
    score = fuzz.ratio(na, nb)
    if _HAN.search(na + nb):
        # Only the same sound counts: near sounds (heng-xin, he-xie) are other names.
        if pinyin(na) == pinyin(nb):
            score = max(score, 97)
    else:
        score = max(score, fuzz.token_sort_ratio(normalise.words(a), normalise.words(b)))
    return int(round(score))


_DIGITS = re.compile(r"\d+")


def _name_evidence(similarity: int, a: str = "", b: str = "") -> float:
    if similarity < 80:
        return 0.0
    evidence = 0.35 + (similarity - 80) / 20 * 0.55  # 80 → 0.35 … 100 → 0.90
    da, db = _DIGITS.findall(_norm(a or "")), _DIGITS.findall(_norm(b or ""))
    if da and db and da != db:
        # 第1分店 and 第2分店, 客户12 and 客户13: alike text, different numbers, other firms.
        evidence *= 0.3
    return evidence


def score_customers(x: dict[str, Any], y: dict[str, Any]) -> Match:
    """Score two customers given as dicts with name, phone, mobile, email, external_id and
    city (any of them may be missing)."""
    reasons, evidence = [], []
    shared = phones(x.get("phone", ""), x.get("mobile", "")) & phones(
        y.get("phone", ""), y.get("mobile", ""))
    for number in sorted(shared):
        reasons.append({"code": "phone", "value": number})
    if shared:
        evidence.append(0.9)
    if x.get("email") and normalise.email(x["email"]) == normalise.email(y.get("email") or ""):
        reasons.append({"code": "email", "value": normalise.email(x["email"])})
        evidence.append(0.9)
    x_ext = (x.get("external_id") or "").strip().lower()
    if x_ext and x_ext == (y.get("external_id") or "").strip().lower():
        reasons.append({"code": "external_id", "value": x["external_id"]})
        evidence.append(0.95)
    similarity = name_similarity(x.get("name", ""), y.get("name", ""))
    if similarity >= 80:
        reasons.append({"code": "name", "value": similarity})
        evidence.append(_name_evidence(similarity, x.get("name", ""), y.get("name", "")))
    p = _combine(evidence)
    # Facts that disagree make two records of the same name more likely two customers
    # (王伟 in 北京 and 王伟 in 成都, each with their own phone). Each is listed as a reason
    # against, so the reviewer sees both sides.
    x_phones = phones(x.get("phone", ""), x.get("mobile", ""))
    y_phones = phones(y.get("phone", ""), y.get("mobile", ""))
    if x_phones and y_phones and not shared:
        reasons.append({"code": "different_phones", "value": ""})
        p *= 0.6
    x_email, y_email = normalise.email(x.get("email") or ""), normalise.email(y.get("email") or "")
    if x_email and y_email and x_email != y_email:
        reasons.append({"code": "different_emails", "value": ""})
        p *= 0.7
    x_city, y_city = _norm(x.get("city") or ""), _norm(y.get("city") or "")
    if x_city and y_city and x_city != y_city:
        reasons.append({"code": "different_cities", "value": f"{x['city']} ≠ {y['city']}"})
        p *= 0.7
    if x_ext and y.get("external_id") and x_ext != y["external_id"].strip().lower():
        # Two different ids in the source system: more likely two records on purpose.
        reasons.append({"code": "external_ids", "value": f"{x['external_id']} ≠ "
                                                          f"{y['external_id']}"})
        p *= 0.8
    return Match(int(round(p * 100)), reasons)


def score_contacts(x: dict[str, Any], y: dict[str, Any]) -> Match:
    reasons, evidence = [], []
    shared = phones(x.get("phone", "")) & phones(y.get("phone", ""))
    if shared:
        reasons.append({"code": "phone", "value": sorted(shared)[0]})
        evidence.append(0.9)
    if x.get("email") and normalise.email(x["email"]) == normalise.email(y.get("email") or ""):
        reasons.append({"code": "email", "value": normalise.email(x["email"])})
        evidence.append(0.9)
    similarity = name_similarity(x.get("name", ""), y.get("name", ""))
    if similarity >= 80:
        reasons.append({"code": "name", "value": similarity})
        weight = _name_evidence(similarity, x.get("name", ""), y.get("name", ""))
        if x.get("customer_id") != y.get("customer_id"):
            weight *= 0.3
        evidence.append(weight)
    if x.get("customer_id") == y.get("customer_id"):
        reasons.append({"code": "same_customer", "value": ""})
    return Match(int(round(_combine(evidence) * 100)), reasons)


# The scan -----------------------------------------------------------------------------------

@dataclass
class _Kind:
    name: str
    model: Any
    key_model: Any
    pair_model: Any
    fk: str
    fields: tuple[str, ...]

    def keys(self, row: dict[str, Any]) -> set[str]:
        if self.model is Customer:
            return customer_keys(row["name"], row["phone"], row["mobile"], row["email"],
                                 row["external_id"])
        return contact_keys(row["customer_id"], row["name"], row["phone"], row["email"])

    def score(self, x: dict[str, Any], y: dict[str, Any]) -> Match:
        return (score_customers if self.model is Customer else score_contacts)(x, y)


CUSTOMERS = _Kind("customers", Customer, CustomerKey, CustomerPair, "customer",
                  ("id", "name", "phone", "mobile", "email", "external_id", "city"))
CONTACTS = _Kind("contacts", Contact, ContactKey, ContactPair, "contact",
                 ("id", "customer_id", "name", "phone", "email"))


def _chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def refresh_keys(kind: _Kind, since=None, progress: Progress | None = None) -> list[int]:
    """Recompute the keys of records changed since `since` (all when None); their ids."""
    qs = kind.model.objects.all()
    if since is not None:
        qs = qs.filter(updated_at__gte=since)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    if progress:
        progress.report(0, total=len(ids), message=_("Computing match keys"))
    for n, chunk in enumerate(_chunks(ids), 1):
        rows = kind.model.objects.filter(pk__in=chunk).values(*kind.fields)
        with transaction.atomic():
            kind.key_model.objects.filter(**{f"{kind.fk}_id__in": chunk}).delete()
            kind.key_model.objects.bulk_create(
                [kind.key_model(**{f"{kind.fk}_id": row["id"]}, key=key)
                 for row in rows for key in kind.keys(row)], batch_size=5000)
        if progress:
            progress.report(min(n * CHUNK, len(ids)))
    return ids


def _blocks(kind: _Kind) -> Iterator[tuple[str, list[int]]]:
    """(key, ids) for every key shared by 2..MAX_BLOCK records, streamed in key order."""
    table = kind.key_model._meta.db_table
    column = f"{kind.fk}_id"
    qn = connection.ops.quote_name
    key = qn("key")
    sql = (f"SELECT k.{key}, k.{qn(column)} FROM {qn(table)} k "  # noqa: S608 - our names
           f"WHERE k.{key} NOT LIKE 'r:%%' AND k.{key} IN (SELECT {key} FROM {qn(table)} "
           f"GROUP BY {key} HAVING COUNT(*) BETWEEN 2 AND %s) "
           f"ORDER BY k.{key}, k.{qn(column)}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [MAX_BLOCK])
        current, ids = None, []
        while rows := cursor.fetchmany(5000):
            for key, pk in rows:
                if key != current:
                    if len(ids) > 1:
                        yield current, ids
                    current, ids = key, []
                ids.append(pk)
        if len(ids) > 1:
            yield current, ids


def _neighbours(kind: _Kind) -> Iterator[tuple[int, int]]:
    """Pairs of alike pinyin names that sort next to each other, forwards and reversed."""
    for prefix in ("y:", "r:"):
        window: list[tuple[str, int]] = []
        rows = kind.key_model.objects.filter(key__startswith=prefix).order_by(
            "key", f"{kind.fk}_id").values_list("key", f"{kind.fk}_id")
        for key, pk in rows.iterator(chunk_size=5000):
            for other_key, other in window:
                if other != pk and fuzz.ratio(key, other_key) >= NEIGHBOUR_RATIO:
                    yield (pk, other) if pk < other else (other, pk)
            window.append((key, pk))
            if len(window) > WINDOW:
                window.pop(0)


def candidates(kind: _Kind, changed: set[int] | None = None) -> set[tuple[int, int]]:
    """Pairs to compare; with `changed`, only those involving one of these records."""
    pairs: set[tuple[int, int]] = set()
    for _key, ids in _blocks(kind):
        if changed is not None and changed.isdisjoint(ids):
            continue
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if a != b and (changed is None or a in changed or b in changed):
                    pairs.add((a, b) if a < b else (b, a))
    if kind.model is Customer:
        pairs.update(p for p in _neighbours(kind)
                     if changed is None or p[0] in changed or p[1] in changed)
    return pairs


def scan(progress: Progress | None = None, *, kinds: tuple[str, ...] = ("customers",
                                                                        "contacts"),
         full: bool = False, user=None, via: str = "cli") -> dict[str, Any]:
    """Refresh keys, find and score candidate pairs, and update the review queue. Runs as a
    background job (the data quality page) or inline (`kehu dedup`). After the first scan,
    only records changed since the last one are compared again (with everybody)."""
    result: dict[str, Any] = {}
    for kind in (k for k in (CUSTOMERS, CONTACTS) if k.name in kinds):
        started = timezone.now()
        state = DedupScan.objects.filter(kind=kind.name).first()
        since = None if full or state is None else state.scanned_at
        refreshed = refresh_keys(kind, since, progress)
        changed = None if since is None else set(refreshed)
        pairs: list[tuple[int, int]] = []
        if changed is None or changed:
            if progress:
                progress.report(0, total=None, message=_("Looking for candidate pairs"))
            pairs = sorted(candidates(kind, changed))
        if progress:
            progress.report(0, total=len(pairs), message=_("Scoring candidate pairs"))
        found: set[tuple[int, int]] = set()
        for n, chunk in enumerate(_chunks(pairs), 1):
            found |= _score_chunk(kind, chunk, started)
            if progress:
                progress.report(min(n * CHUNK, len(pairs)))
        gone = _drop_unfound(kind, changed, found)
        DedupScan.objects.update_or_create(kind=kind.name, defaults={"scanned_at": started})
        result[kind.name] = {"keys_refreshed": len(refreshed), "candidates": len(pairs),
                             "pairs": kind.pair_model.objects.filter(
                                 status=PairStatus.OPEN).count(),
                             "dropped": gone}
    record(user, "duplicates.scan", via=via, detail=result)
    return result


def scan_as(progress: Progress, user_id: int) -> dict[str, Any]:
    """The scan as a background job, started by a user on the data quality page."""
    return scan(progress, user=User.objects.get(pk=user_id), via="web")


def _drop_unfound(kind: _Kind, changed: set[int] | None,
                  found: set[tuple[int, int]]) -> int:
    """Open pairs of compared records that no longer look alike (they changed)."""
    if changed is not None and not changed:
        return 0
    gone = []
    if changed is None:
        rows = kind.pair_model.objects.filter(status=PairStatus.OPEN).values_list(
            "pk", "a_id", "b_id").iterator(chunk_size=10_000)
        gone = [pk for pk, a, b in rows if (a, b) not in found]
    else:
        ids = sorted(changed)
        for start in range(0, len(ids), CHUNK):
            part = ids[start:start + CHUNK]
            rows = kind.pair_model.objects.filter(
                Q(a_id__in=part) | Q(b_id__in=part), status=PairStatus.OPEN).values_list(
                "pk", "a_id", "b_id")
            gone += [pk for pk, a, b in rows if (a, b) not in found]
    for start in range(0, len(gone), CHUNK):
        kind.pair_model.objects.filter(pk__in=gone[start:start + CHUNK]).delete()
    return len(gone)


def _score_chunk(kind: _Kind, chunk: list[tuple[int, int]], now) -> set[tuple[int, int]]:
    """Score pairs; store those that look alike; return them."""
    ids = {pk for pair in chunk for pk in pair}
    rows = {r["id"]: r for r in kind.model.objects.filter(pk__in=ids).values(*kind.fields)}
    existing = {(p.a_id, p.b_id): p for p in kind.pair_model.objects.filter(
        Q(a_id__in=ids) & Q(b_id__in=ids))}
    new, changed, kept = [], [], set()
    for a, b in chunk:
        if a not in rows or b not in rows:
            continue
        match = kind.score(rows[a], rows[b])
        if match.score < MIN_SCORE:
            continue
        kept.add((a, b))
        pair = existing.get((a, b))
        if pair is None:
            new.append(kind.pair_model(a_id=a, b_id=b, score=match.score,
                                       reasons=match.reasons, found_at=now))
        elif (pair.score, pair.reasons) != (match.score, match.reasons):
            pair.score, pair.reasons, pair.found_at = match.score, match.reasons, now
            changed.append(pair)
    with transaction.atomic():
        kind.pair_model.objects.bulk_create(new, ignore_conflicts=True)
        kind.pair_model.objects.bulk_update(changed, ["score", "reasons", "found_at"])
    return kept


# The review queue ---------------------------------------------------------------------------

def _visible(user, prefix: str) -> Q:
    condition = customer_filter(user, VIEW, prefix)
    return Q() if condition is None else condition


def customer_pairs(user, status: str = PairStatus.OPEN) -> QuerySet[CustomerPair]:
    """Pairs whose both customers the user may see, most likely first."""
    return (CustomerPair.objects.filter(status=status)
            .filter(_visible(user, "a__"), _visible(user, "b__"))
            .select_related("a__owner", "b__owner").order_by("-score", "a_id", "b_id"))


def contact_pairs(user, status: str = PairStatus.OPEN) -> QuerySet[ContactPair]:
    return (ContactPair.objects.filter(status=status)
            .filter(_visible(user, "a__customer__"), _visible(user, "b__customer__"))
            .select_related("a__customer", "b__customer").order_by("-score", "a_id", "b_id"))


def _customers_of(pair) -> tuple[Customer, Customer]:
    if isinstance(pair, CustomerPair):
        return pair.a, pair.b
    return pair.a.customer, pair.b.customer


@transaction.atomic
def dismiss_pair(user, pair, *, ip: str | None = None, via: str = "web") -> None:
    """"Not a duplicate": the pair leaves the queue for good."""
    first, second = _customers_of(pair)
    if not (can(user, CHANGE, first) and can(user, CHANGE, second)):
        raise NotPermitted(_("You may only decide about records you may change."))
    pair.status, pair.decided_by, pair.decided_at = PairStatus.DISMISSED, user, timezone.now()
    pair.save(update_fields=["status", "decided_by", "decided_at"])
    kind = "customer" if isinstance(pair, CustomerPair) else "contact"
    record(user, f"duplicates.dismiss_{kind}", ip=ip, via=via, customer_id=first.pk,
           detail={"a": pair.a_id, "b": pair.b_id, "score": pair.score})
