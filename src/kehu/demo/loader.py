"""The demo firm: the real CDNOW purchase history (23,570 customers, 69,659 transactions,
1997–1998) dressed as a Chinese distributor's customer base, with made-up names, companies,
contacts, owners, teams and activities.

The dates are moved forward so that the 18 months of history end the day before the demo is
loaded: the demo is always current, and the value models score it as of today. Amounts are
the real ones. Line items carry the number of CDs of each order, so an order's total is the
sum of its lines (a few cents off the source where its unit price does not divide evenly).
The firm is scored by a first value refresh before its personalised offer lists are built.

Loading is idempotent: a second run only makes sure that the demo users exist with the
demo password, and says so.
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from simple_history.utils import bulk_create_with_history

from kehu.accounts.models import Team, User
from kehu.analytics.models import LoyaltyStatement, Referral
from kehu.analytics.refresh import refresh_values
from kehu.audit.services import record
from kehu.core.roles import Role
from kehu.customers import invariants
from kehu.customers import services as customer_services
from kehu.customers.models import (
    CompanySize,
    Contact,
    CreditRating,
    Customer,
    CustomerKind,
    CustomerNature,
    DecisionRole,
    LifecycleState,
    Product,
    ServiceGroup,
    Transaction,
    TransactionKind,
    TransactionLine,
    TransitionSource,
)
from kehu.demo import campaigns as demo_campaigns
from kehu.demo import consents as demo_consents
from kehu.demo import knowledge as demo_knowledge
from kehu.demo import leads as demo_leads
from kehu.demo import names, pipeline
from kehu.demo import offers as demo_offers
from kehu.demo import owners as demo_owners
from kehu.demo import plans as demo_plans
from kehu.demo import surveys as demo_surveys
from kehu.demo import tickets as demo_tickets
from kehu.demo.credit import load_credit
from kehu.demo.texts import LANGUAGES, TEXT
from kehu.loans import services as loans
from kehu.sales.models import Activity, ActivityKind
from kehu.tasks.models import Playbook, Task, TaskKind, TaskStatus
from kehu.tasks.services import NewTask, open_tasks

PASSWORD = "kehu-demo"  # noqa: S105 - the published demo password
PROSPECTS = 600  # leads without purchases yet: potential, target and non-customers
NEW_BUYERS = 240  # customers won in the last two months: their first purchases
REFERRED_SHARE = 0.07  # of the buyers, brought by an earlier customer
WELCOME_DAYS = 7  # the first-purchase playbook's calls for the newest customers...
WELCOME_CALLS = 4  # ...up to this many per owner
STATEMENTS_SHARE = 0.04  # of the buyers, who told us about buying again and recommending
SEED = 20260101
CENTS = Decimal("0.01")

USERS = [  # username, role, team key, first name, last name
    ("admin", Role.ADMIN, None, "管理员", "系统"),
    ("manager1", Role.MANAGER, "east", "慧敏", "陈"),
    ("manager2", Role.MANAGER, "north", "建国", "赵"),
    ("sales1", Role.SALES, "east", "晓东", "王"),
    ("sales2", Role.SALES, "north", "丽娜", "刘"),
    ("service1", Role.SERVICE, "east", "静", "周"),
    ("marketing1", Role.MARKETING, "east", "欣怡", "林"),
    ("analyst1", Role.ANALYST, "east", "思远", "许"),
]
TEAMS = {"east": "East 华东", "north": "North 华北"}

PRODUCTS = [  # code, name, unit price, unit cost
    ("CD-POP", "流行音乐 CD Pop", "15.00", "9.80"),
    ("CD-CLS", "古典音乐 CD Classical", "18.00", "11.20"),
    ("CD-JAZ", "爵士乐 CD Jazz", "16.50", "10.40"),
    ("CD-ROK", "摇滚乐 CD Rock", "14.50", "9.10"),
    ("CD-FOL", "民族音乐 CD Folk", "13.00", "8.20"),
    ("CD-OST", "影视原声 CD Soundtrack", "15.50", "9.90"),
    ("CD-BOX", "精选套装 CD Box set", "48.00", "30.50"),
    ("SVC-INS", "音响安装服务 Audio installation", "120.00", "70.00"),
]

@dataclass
class LoadResult:
    created: bool
    customers: int = 0
    transactions: int = 0
    contacts: int = 0
    activities: int = 0
    referrals: int = 0


Progress = Callable[[str], None]


SOURCE_LAST_DAY = dt.date(1998, 6, 30)


def _shift(day: dt.date) -> dt.date:
    """The history ends the day before the demo is loaded, so that "today" in the demo is
    just after the last orders and the value models see a current base."""
    return day + (timezone.localdate() - dt.timedelta(days=1) - SOURCE_LAST_DAY)


def read_cdnow() -> dict[int, list[tuple[dt.date, int, Decimal]]]:
    """Purchases by CDNOW customer id: (date, number of CDs, dollars), in file order."""
    purchases: dict[int, list] = defaultdict(list)
    raw = resources.files("kehu.demo").joinpath("data/cdnow_master.txt.gz").read_bytes()
    for line in gzip.decompress(raw).decode().splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[0].isdigit():
            continue  # the header
        cid, day, cds, dollars = parts
        purchases[int(cid)].append(
            (dt.date(int(day[:4]), int(day[4:6]), int(day[6:])), int(cds), Decimal(dollars))
        )
    return purchases


def language_of(language: str | None = None) -> str:
    """The demo's language: the one asked for, else the site's (KEHU_LANGUAGE)."""
    code = (language or settings.LANGUAGE_CODE).strip().lower().replace("_", "-")
    code = "zh-hans" if code.startswith("zh") else code
    if code not in LANGUAGES:
        raise ValueError(f"The demo is in {' or '.join(LANGUAGES)}, not {language!r}.")
    return code


USER_NAMES_EN = {"admin": ("Admin", "System"), "manager1": ("Huimin", "Chen"),
                 "manager2": ("Jianguo", "Zhao"), "sales1": ("Xiaodong", "Wang"),
                 "sales2": ("Lina", "Liu"), "service1": ("Jing", "Zhou"),
                 "marketing1": ("Xinyi", "Lin"), "analyst1": ("Siyuan", "Xu")}


def _ensure_users(language: str) -> dict[str, User]:
    teams = {key: Team.objects.get_or_create(name=name)[0] for key, name in TEAMS.items()}
    users = {}
    for username, role, team_key, first, last in USERS:
        user, _created = User.objects.get_or_create(username=username)
        user.role, user.team = role, teams[team_key] if team_key else None
        user.first_name, user.last_name = (
            (first, last) if language == "zh-hans" else USER_NAMES_EN[username])
        user.email = f"{username}@demo.kehu.invalid"
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.is_active = True
        if not user.check_password(PASSWORD):
            # Only when it differs: a new password would revoke the user's API tokens.
            user.set_password(PASSWORD)
        user.save()
        users[username] = user
    return users


def _state(days: list[dt.date], end: dt.date, text: dict) -> tuple[str, str]:
    """An initial state set by hand from the purchase history, as a firm migrating its
    records would; the value refresh later derives states from behaviour."""
    if end - days[-1] > dt.timedelta(days=365):
        return LifecycleState.CHURNED, text["churned"]
    if len(days) >= 8:
        return LifecycleState.LOYAL, text["loyal"]
    if len(days) >= 2:
        return LifecycleState.REPEAT_PURCHASE, text["repeat"]
    return LifecycleState.FIRST_PURCHASE, text["first"]


def _profile(rng: random.Random, seq: int, language: str) -> dict:
    """Card fields of one made-up customer, named in the demo's language."""
    text = TEXT[language]
    province, city, team = rng.choice(names.PLACES)
    shown_province, shown_city = names.place(province, city, language)
    roll = rng.random()
    data = {"province": shown_province, "city": shown_city,
            "address": names.localised_address(rng, city, language), "_team": team}
    if roll < 0.68:  # households buying for themselves (B2C)
        data.update(
            kind=CustomerKind.PERSON,
            name=names.person(rng, language),
            nature=CustomerNature.INDIVIDUAL,
            service_group=ServiceGroup.HOUSEHOLD,
            mobile=names.mobile(rng),
        )
        if rng.random() < 0.6:
            data["email"] = f"user{seq:05d}@{text['mail']}"
        return data
    company, industry = names.company(rng, city, language)
    nature = rng.choices(
        [
            CustomerNature.ORDINARY,
            CustomerNature.DEALER,
            CustomerNature.GOVERNMENT,
            CustomerNature.SPECIAL,
        ],
        weights=[80, 12, 5, 3],
    )[0]
    size = rng.choices(list(CompanySize.values), weights=[30, 45, 20, 5])[0]
    large = size == CompanySize.LARGE
    founded = dt.date(rng.randrange(1985, 2022), rng.randrange(1, 13), rng.randrange(1, 28))
    data.update(
        kind=CustomerKind.ORGANISATION,
        name=company,
        nature=nature,
        industry=industry,
        size=size,
        service_group=ServiceGroup.LARGE if large else ServiceGroup.SME,
        phone=names.landline(rng, city),
        email=f"info{seq:05d}@{text['corp']}",
        legal_representative=names.person(rng, language),
        founded_on=founded,
        organisation_form=rng.choice(text["forms"]),
        registered_capital=Decimal(rng.choice([50, 100, 200, 500, 1000, 5000])) * 10000,
        trade_terms=rng.choice(text["terms"]),
        credit_rating=rng.choices(list(CreditRating.values), weights=[20, 45, 25, 8, 2])[0],
        credit_limit=Decimal(rng.choice([5, 10, 20, 50, 100])) * 1000,
        service_area=rng.choice(text["areas"]),
        business_style=rng.choice(text["styles"]),
        reputation=rng.choice(text["reputations"]),
    )
    if rng.random() < 0.3:
        data.update(
            legal_rep_personality=rng.choice(text["personalities"]),
            legal_rep_interests=rng.choice(text["interests"]),
            legal_rep_birth_year=rng.randrange(1955, 1990),
        )
    if rng.random() < 0.15:
        data["payment_terms_days"] = rng.choice((30, 45, 60, 90))
    return data


def _owner(rng: random.Random, team: str, users: dict[str, User]) -> User:
    if team == "east":
        return users["manager1"] if rng.random() < 0.08 else users["sales1"]
    return users["manager2"] if rng.random() < 0.08 else users["sales2"]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def is_loaded() -> bool:
    return Customer.objects.filter(external_id="CD00001").exists()


def load(progress: Progress = lambda message: None, *, language: str | None = None,
         sample: int | None = None) -> LoadResult:
    """Load the demo firm in `language` ("zh-hans" or "en"; the site's language by
    default). `sample` keeps only the first that many CDNOW customers (and proportionally
    fewer leads and new buyers): the same firm in small, for trying things out quickly."""
    language = language_of(language)
    users = _ensure_users(language)
    if is_loaded():
        return LoadResult(created=False)
    with transaction.atomic():
        return _load(users, progress, language, sample)


def _new_buyers(rng: random.Random, count: int) -> dict[int, list]:
    """Customers won in the last two months (in the source's dates, before the shift): most
    have bought once, a few have come back already."""
    history = {}
    for n in range(count):
        first = SOURCE_LAST_DAY - dt.timedelta(days=rng.randrange(1, 60))
        rows = [(first, rng.randrange(1, 5), _money(Decimal(rng.uniform(12, 90))))]
        if rng.random() < 0.15 and first < SOURCE_LAST_DAY - dt.timedelta(days=10):
            again = first + dt.timedelta(days=rng.randrange(5, (SOURCE_LAST_DAY - first).days))
            rows.append((again, rng.randrange(1, 4), _money(Decimal(rng.uniform(12, 60)))))
        history[950001 + n] = rows
    return history


def _external_id(cid: int) -> str:
    if cid >= 950001:
        return f"NB{cid - 950000:05d}"
    return f"CD{cid:05d}" if cid < 900001 else f"LD{cid - 900000:05d}"


def _load(users: dict[str, User], progress: Progress, language: str,
          sample: int | None) -> LoadResult:
    rng = random.Random(SEED)
    text = TEXT[language]
    admin = users["admin"]
    now = timezone.now()
    progress("Reading the CDNOW purchase history")
    purchases = read_cdnow()
    if sample is not None:
        purchases = {cid: purchases[cid] for cid in sorted(purchases)[:sample]}
    scale = len(purchases) / 23_570
    last_day = timezone.localdate() - dt.timedelta(days=1)
    purchases.update(_new_buyers(rng, max(10, round(NEW_BUYERS * scale))))
    products = {}
    for code, name, price, cost in PRODUCTS:
        zh, _space, en = name.partition(" ")
        products[code], _created = Product.objects.get_or_create(
            code=code,
            defaults={"name": name if language == "zh-hans" else en,
                      "unit_price": Decimal(price), "unit_cost": Decimal(cost)},
        )
    music = [p for code, p in products.items() if code.startswith("CD-")]

    progress("Creating customers")
    customers, owners, states, histories = [], [], [], []
    prospects = max(20, round(PROSPECTS * scale))
    ids = sorted(purchases) + list(range(900001, 900001 + prospects))
    for cid in ids:
        data = _profile(rng, cid, language)
        team = data.pop("_team")
        owner = _owner(rng, team, users)
        history = purchases.get(cid)
        if history:
            days = sorted({_shift(p[0]) for p in history})
            state, reason = _state(days, last_day, text)
            data["trading_since"] = days[0]
        else:
            state = rng.choices(
                [LifecycleState.POTENTIAL, LifecycleState.TARGET, LifecycleState.NON_CUSTOMER],
                weights=[60, 30, 10],
            )[0]
            reason = text["lead"] if state != LifecycleState.NON_CUSTOMER else text["no_match"]
        customer = Customer(
            external_id=_external_id(cid),
            owner=owner,
            lifecycle_state=state,
            created_by=admin,
            updated_by=admin,
            **data,
        )
        customers.append(customer)
        owners.append(owner)
        states.append((state, reason))
        histories.append(history)
    customers = invariants.insert(
        customers, by=admin, reason=text["load_reason"], source=TransitionSource.IMPORT,
        at=now, state_reasons=[r for _s, r in states], batch_size=2000)

    progress("Creating contacts")
    # Five draws as before the decision chain had four roles (evaluators twice, as the
    # old supporters and users became evaluators), so the rest of the demo stays the same.
    demo_roles = [DecisionRole.APPROVER, DecisionRole.DECISION_MAKER, DecisionRole.EVALUATOR,
                  DecisionRole.INFLUENCER, DecisionRole.EVALUATOR]
    contacts = []
    for customer in customers:
        if customer.kind != CustomerKind.ORGANISATION:
            continue
        for i in range(rng.choice([1, 1, 2, 3])):
            title = rng.choice(names.JOB_TITLES)[0 if language == "zh-hans" else 1]
            contacts.append(
                Contact(
                    customer=customer,
                    name=names.person(rng, language),
                    title=title,
                    phone=names.mobile(rng),
                    is_primary=i == 0,
                    decision_role=rng.choice(demo_roles),
                    personal_interests=(
                        rng.choice(text["interests"]) if rng.random() < 0.4 else ""),
                    birthday=dt.date(
                        rng.randrange(1965, 2000), rng.randrange(1, 13), rng.randrange(1, 29)
                    )
                    if rng.random() < 0.3
                    else None,
                )
            )
    bulk_create_with_history(
        contacts, Contact, batch_size=5000, default_user=admin,
        default_change_reason=text["load_reason"]
    )

    progress("Creating transactions")
    txn_count = _transactions(rng, customers, owners, histories, music)

    progress("Creating activities")
    activities = _activities(rng, customers, owners, histories, users, last_day, text)
    Activity.objects.bulk_create(activities, batch_size=5000)

    progress("Recording referrals and what customers said")
    referrals = _referrals(rng, customers, histories, admin, text)
    _statements(rng, customers, histories, users, last_day, text)
    _locks(rng, customers, histories, users, text)

    progress("Lending customer files")
    _loans(customers, users, text)

    progress("Giving everyone work for this week")
    _workbench(rng, customers, users, text)
    _welcome_calls(customers, histories, admin, language)
    demo_plans.load(users, language, last_day)
    load_credit(customers, users, language)
    demo_leads.load(users, customers, language)
    pipeline.load(customers, users, language, last_day)
    demo_owners.load(customers, users, language, admin)
    demo_consents.load(users, language, last_day)
    demo_surveys.load(customers, users, language, last_day)
    demo_campaigns.load(users, language, last_day)
    demo_tickets.load(customers, users, language)
    demo_knowledge.load(users)
    # The offer lists want what the first value refresh knows (each customer's loyalty for
    # their coupon, the products bought together), so the firm is scored before them; the
    # demo's own `kehu value refresh --if-stale` then finds the scores current.
    progress("Scoring the customers' value")
    refresh_values(None, via="cli")
    progress("Building the personalised offer lists")
    demo_offers.load(users, last_day)
    progress("Checking the tickets against their service-level targets")
    demo_tickets.check_service_levels(language)

    result = LoadResult(
        created=True,
        customers=len(customers),
        transactions=txn_count,
        contacts=len(contacts),
        activities=len(activities),
        referrals=referrals,
    )
    record(
        admin,
        "demo.load",
        via="cli",
        detail={
            "language": language,
            "customers": result.customers,
            "transactions": result.transactions,
            "contacts": result.contacts,
            "activities": result.activities,
            "referrals": result.referrals,
        },
    )
    return result


def _activities(rng: random.Random, customers: list[Customer], owners: list[User],
                histories: list, users: dict[str, User], last_day: dt.date,
                text: dict) -> list[Activity]:
    """Calls, e-mails, meetings, visits and service notes by the owner (service notes
    often by the service desk), from the first purchase on; firms are visited and met,
    households called and written to, and a customer who buys often hears from us more."""
    tz = timezone.get_current_timezone()
    every = text["activities"]
    remote = [t for t in every if t[0] in {ActivityKind.CALL, ActivityKind.EMAIL,
                                           ActivityKind.NOTE}]
    service = users["service1"]
    activities = []
    for customer, owner, history in zip(customers, owners, histories, strict=True):
        start = (_shift(history[0][0]) if history
                 else last_day - dt.timedelta(days=rng.randrange(1, 120)))
        household = customer.kind == CustomerKind.PERSON
        templates = remote if household else every
        count = rng.choice([0, 0, 1, 1, 2] if household else [1, 2, 3, 4])
        if history and len(history) >= 6:
            count += rng.randrange(1, 4)
        span = max((last_day - start).days, 1)
        for _i in range(count):
            kind, subject, body = rng.choice(templates)
            day = start + dt.timedelta(days=rng.randrange(0, min(span, 400) + 1))
            at = dt.datetime.combine(
                min(day, last_day),
                dt.time(rng.randrange(9, 18), rng.choice([0, 15, 30, 45])),
                tzinfo=tz,
            )
            author = service if kind == ActivityKind.NOTE and rng.random() < 0.5 else owner
            activities.append(Activity(customer=customer, kind=kind, subject=subject,
                                       body=body, occurred_at=at, author=author))
    return activities


def _referrals(rng: random.Random, customers: list[Customer], histories: list,
               admin: User, text: dict) -> int:
    """Some buyers were brought by an earlier customer, on their own first purchase day and
    after the referrer's: a handful of strong referrers bring many, others one or two."""
    buyers = sorted(((_shift(h[0][0]), c) for c, h in zip(customers, histories, strict=True)
                     if h), key=lambda pair: (pair[0], pair[1].pk))
    if len(buyers) < 20:
        return 0
    firsts = [day for day, _c in buyers]
    # Strong referrers: among the first tenth, those who came back most often.
    early = buyers[: max(len(buyers) // 10, 10)]
    often = {c.pk: len(h) for c, h in zip(customers, histories, strict=True) if h}
    strong = sorted(early, key=lambda pair: (-often[pair[1].pk], pair[1].pk))[:8]
    referrals, referred = [], set()
    for day, customer in buyers:
        recent = customer.external_id.startswith("NB")
        if rng.random() >= (0.4 if recent else REFERRED_SHARE):
            continue
        if rng.random() < 0.12:
            choices = [c for d, c in strong if d < day]
        else:
            earlier = bisect_left(firsts, day)
            choices = [buyers[rng.randrange(earlier)][1]] if earlier else []
        choices = [c for c in choices if c.pk != customer.pk]
        if not choices or customer.pk in referred:
            continue
        referred.add(customer.pk)
        referrals.append(Referral(referrer=rng.choice(choices), referred=customer,
                                  referred_on=day, note=text["referral"], created_by=admin))
    Referral.objects.bulk_create(referrals, batch_size=5000)
    return len(referrals)


def _statements(rng: random.Random, customers: list[Customer], histories: list,
                users: dict[str, User], last_day: dt.date, text: dict) -> None:
    """What a sample of buyers said on a follow-up call: most say what they do (frequent
    buyers intend to come back), some do not — keen words without purchases, and quiet
    regulars — so that every cell of the intention × behaviour grid has customers."""
    statements = []
    for customer, history in zip(customers, histories, strict=True):
        if not history or rng.random() >= STATEMENTS_SHARE:
            continue
        frequent = len({p[0] for p in history}) >= 4
        keen = rng.random() < (0.75 if frequent else 0.3)
        low, high = (7, 10) if keen else (2, 6)
        statements.append(LoyaltyStatement(
            customer=customer,
            stated_on=last_day - dt.timedelta(days=rng.randrange(0, 180)),
            buy_again=rng.randint(low, high),
            recommend=rng.randint(low, high) if rng.random() < 0.8 else None,
            wallet_share=(rng.choice([20, 30, 40, 50, 60, 70, 80, 90])
                          if customer.kind == CustomerKind.ORGANISATION else None),
            note=text["statement"],
            created_by=customer.owner))
    LoyaltyStatement.objects.bulk_create(statements, batch_size=5000)


def _locks(rng: random.Random, customers: list[Customer], histories: list,
           users: dict[str, User], text: dict) -> None:
    """A few states set by hand and locked, each with its reason, by the owner's manager:
    the value refresh keeps them. Each on a firm whose history fits the state."""
    today = timezone.localdate()

    def fits(state: str, history) -> bool:
        days = len({p[0] for p in history}) if history else 0
        last = (today - _shift(max(p[0] for p in history))).days if history else None
        return {"loyal": days >= 8 and last is not None and last < 90,
                "repeat": 2 <= days < 8 and last is not None and last < 180,
                "churned": last is not None and last > 365,
                "non_customer": not history, "target": not history}[state]

    manager = {users["sales1"].pk: users["manager1"], users["manager1"].pk: users["manager1"],
               users["sales2"].pk: users["manager2"], users["manager2"].pk: users["manager2"]}
    firms = [(c, h) for c, h in zip(customers, histories, strict=True)
             if c.kind == CustomerKind.ORGANISATION]
    for state, reason in text["locks"]:
        fitting = [c for c, h in firms if fits(state, h)]
        if not fitting:
            continue
        customer = rng.choice(fitting)
        until = today + dt.timedelta(days=180) if state == "repeat" else None
        customer_services.set_lifecycle_state(
            manager[customer.owner_id], customer, state, reason=reason, lock_reason=reason,
            lock_until=until, via="cli")


def _loans(customers: list[Customer], users: dict[str, User], text: dict) -> None:
    """One customer file of East on loan to sales2 of North, and sales1's request for one of
    North's waiting for an answer (kehu.loans)."""
    east = next(c for c in customers if c.owner_id == users["sales1"].pk and c.external_id)
    north = next(c for c in customers if c.owner_id == users["sales2"].pk and c.external_id)
    lent = loans.request_loan(users["sales2"], east.external_id, text["loan_ask"],
                              days=5, via="cli")
    loans.approve_loan(users["manager1"], lent, note=text["loan_note"], via="cli")
    loans.request_loan(users["sales1"], north.external_id, text["loan_other"], via="cli")


def _workbench(rng: random.Random, customers: list[Customer], users: dict[str, User],
               text: dict) -> None:
    """Tasks for every demo user — some overdue, some due today, visits this week, a few
    done or dismissed with a note — on customers they may see, and the visits sales made
    earlier this week."""
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    tz = timezone.get_current_timezone()
    now = timezone.now()
    east = [c for c in customers if c.owner_id in (users["sales1"].pk, users["manager1"].pk)]
    north = [c for c in customers if c.owner_id in (users["sales2"].pk, users["manager2"].pk)]
    work = text["work"]
    tasks, visits = [], []
    for username, user in users.items():
        if username == "admin":
            pool, plan = east + north, work["other"]
        else:
            own = [c for c in customers if c.owner_id == user.pk]
            pool = own or (east if user.team and user.team.name == TEAMS["east"] else north)
            plan = work["sales"] if user.role == Role.SALES else (
                work["manager"] if user.role == Role.MANAGER else work["other"])
        closed = text["closed"]
        # A small sample may give someone fewer customers than the week asks for.
        picked = rng.sample(pool, min(len(pool), len(plan) + 2 + len(closed)))
        for (days, kind, priority, title), customer in zip(plan, picked, strict=False):
            due = today + dt.timedelta(days=days)
            if kind == TaskKind.VISIT and due >= monday + dt.timedelta(days=7):
                due = monday + dt.timedelta(days=6)  # the visits stay in this week
            tasks.append(Task(customer=customer, assignee=user, title=title, due_on=due,
                              kind=kind, priority=priority, created_by=users["admin"]))
        for (ago, kind, title, done, note), customer in zip(closed, picked[len(plan) + 2:],
                                                            strict=False):
            tasks.append(Task(customer=customer, assignee=user, title=title, kind=kind,
                              due_on=today - dt.timedelta(days=ago),
                              status=TaskStatus.DONE if done else TaskStatus.DISMISSED,
                              closed_at=now - dt.timedelta(days=ago, hours=2),
                              closed_by=user, note=note, created_by=users["admin"]))
        if user.role in (Role.SALES, Role.MANAGER):
            # Visits already made this week (today's, early in the morning, on a Monday).
            subject, body = text["visit_done"]
            made = picked[len(plan):len(plan) + 2]
            for offset, customer in enumerate(made):
                day = max(monday, today - dt.timedelta(days=1 + offset))
                visits.append(Activity(
                    customer=customer, kind=ActivityKind.VISIT, author=user,
                    subject=subject, body=body,
                    occurred_at=dt.datetime.combine(day, dt.time(9 + 2 * offset, 30), tzinfo=tz)))
    Task.objects.bulk_create(tasks)
    Activity.objects.bulk_create(visits)


def _welcome_calls(customers: list[Customer], histories: list, admin: User,
                   language: str) -> None:
    """The first-purchase playbook's call for each owner's newest customers (a first
    purchase in the last week, the newest few per owner): the value refresh gives its tasks
    to the most valuable customers first, so the newest customers' calls come from here."""
    book = Playbook.objects.filter(state=LifecycleState.FIRST_PURCHASE, create_task=True).first()
    if book is None:
        return
    today = timezone.localdate()
    text = TEXT[language]
    with translation.override(language):
        title, detail = book.task_title, book.task_detail
    newest: dict[int, list[tuple[dt.date, Customer]]] = defaultdict(list)
    for customer, history in zip(customers, histories, strict=True):
        if history and len({p[0] for p in history}) == 1:
            first = _shift(history[0][0])
            if (today - first).days <= WELCOME_DAYS:
                newest[customer.owner_id].append((first, customer))
    new = []
    for found in newest.values():
        found.sort(key=lambda pair: (pair[0], pair[1].pk), reverse=True)
        for first, customer in found[:WELCOME_CALLS]:
            new.append(NewTask(
                customer_id=customer.pk, assignee_id=customer.owner_id, title=title,
                detail=detail, origin=book.origin, priority=book.priority, kind=book.kind,
                due_on=first + dt.timedelta(days=book.due_in_days),
                reason=text["welcome"] % {"date": first.isoformat()}))
    open_tasks(new, by=admin)


def _transactions(
    rng: random.Random,
    customers: list[Customer],
    owners: list[User],
    histories: list,
    music: list[Product],
) -> int:
    txns, lines = [], []
    for customer, owner, history in zip(customers, owners, histories, strict=True):
        if not history:
            continue
        cost_ratio = Decimal(str(round(rng.uniform(0.55, 0.8), 3)))
        for n, (day, cds, dollars) in enumerate(history, start=1):
            quantity = Decimal(max(cds, 1))
            unit_price = _money(dollars / quantity)
            unit_cost = _money(unit_price * cost_ratio)
            product = rng.choice(music)
            txn = Transaction(
                customer=customer,
                date=_shift(day),
                kind=TransactionKind.ORDER,
                number=f"SO{_shift(day):%Y%m%d}-{_order_key(customer)}-{n}",
                amount=unit_price * quantity,
                cost=unit_cost * quantity,
                created_by=owner,
            )
            txns.append(txn)
            lines.append(
                TransactionLine(
                    transaction=txn,
                    product=product,
                    description=product.name,
                    quantity=quantity,
                    unit_price=unit_price,
                    unit_cost=unit_cost,
                )
            )
    Transaction.objects.bulk_create(txns, batch_size=5000)
    for line in lines:
        line.transaction_id = line.transaction.pk
    TransactionLine.objects.bulk_create(lines, batch_size=5000)
    return len(txns)


def _order_key(customer: Customer) -> str:
    """The customer's part of an order number: the CDNOW id, or the whole id of a new
    buyer (NB00001), so that order numbers never collide."""
    key = customer.external_id
    return key[2:] if key.startswith("CD") else key
