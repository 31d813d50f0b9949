"""The demo firm: the real CDNOW purchase history (23,570 customers, 69,659 transactions,
1997–1998) dressed as a Chinese distributor's customer base, with made-up names, companies,
contacts, owners, teams and activities.

The dates are moved forward so that the 18 months of history end the day before the demo is
loaded: the demo is always current, and the value models score it as of today. Amounts are
the real ones. Line items carry the number of CDs of each order, so an order's total is the
sum of its lines (a few cents off the source where its unit price does not divide evenly).

Loading is idempotent: a second run only makes sure that the demo users exist with the
demo password, and says so.
"""

from __future__ import annotations

import datetime as dt
import gzip
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from kehu.accounts.models import Team, User
from kehu.audit.services import record
from kehu.core.roles import Role
from kehu.customers import invariants
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
from kehu.demo import names
from kehu.loans import services as loans
from kehu.sales.models import Activity, ActivityKind
from kehu.tasks.models import Task, TaskKind, TaskPriority

PASSWORD = "kehu-demo"  # noqa: S105 - the published demo password
PROSPECTS = 600  # leads without purchases yet: potential, target and non-customers
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

ACTIVITY_TEMPLATES = [
    (ActivityKind.CALL, "回访：确认订单到货情况", "客户表示包装完好，对发货速度满意。"),
    (ActivityKind.CALL, "电话沟通新品目录", "介绍了本季新品，客户希望收到纸质目录。"),
    (ActivityKind.VISIT, "上门拜访，了解采购计划", "客户计划下季度增加采购，关注价格与账期。"),
    (ActivityKind.EMAIL, "发送报价单", "已发送最新报价单及促销政策。"),
    (ActivityKind.NOTE, "客户反馈", "客户建议增加古典音乐品类。"),
    (ActivityKind.MEETING, "年度合作洽谈", "双方讨论了明年的合作框架与返利政策。"),
]


REMOTE_TEMPLATES = [t for t in ACTIVITY_TEMPLATES
                    if t[0] in {ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.NOTE}]


@dataclass
class LoadResult:
    created: bool
    customers: int = 0
    transactions: int = 0
    contacts: int = 0
    activities: int = 0


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


def _ensure_users() -> dict[str, User]:
    teams = {key: Team.objects.get_or_create(name=name)[0] for key, name in TEAMS.items()}
    users = {}
    for username, role, team_key, first, last in USERS:
        user, _created = User.objects.get_or_create(username=username)
        user.role, user.team = role, teams[team_key] if team_key else None
        user.first_name, user.last_name = first, last
        user.email = f"{username}@demo.kehu.invalid"
        user.is_staff = user.is_superuser = role == Role.ADMIN
        user.is_active = True
        if not user.check_password(PASSWORD):
            # Only when it differs: a new password would revoke the user's API tokens.
            user.set_password(PASSWORD)
        user.save()
        users[username] = user
    return users


def _state(days: list[dt.date], end: dt.date) -> tuple[str, str]:
    """An initial state set by hand from the purchase history, as a firm migrating its
    records would; the value refresh later derives states from behaviour."""
    if end - days[-1] > dt.timedelta(days=365):
        return LifecycleState.CHURNED, "十二个月内没有购买"
    if len(days) >= 8:
        return LifecycleState.LOYAL, "经常购买（8 个以上购买日）"
    if len(days) >= 2:
        return LifecycleState.REPEAT_PURCHASE, "已在多个日子购买"
    return LifecycleState.FIRST_PURCHASE, "目前仅购买一次"


def _profile(rng: random.Random, seq: int) -> dict:
    """Card fields of one made-up customer."""
    province, city, team = rng.choice(names.PLACES)
    roll = rng.random()
    data = {"province": province, "city": city, "address": names.address(rng, city), "_team": team}
    if roll < 0.68:  # households buying for themselves (B2C)
        person = (
            names.chinese_person(rng) if rng.random() < 0.95 else names.english_person(rng).name
        )
        data.update(
            kind=CustomerKind.PERSON,
            name=person,
            nature=CustomerNature.INDIVIDUAL,
            service_group=ServiceGroup.HOUSEHOLD,
            mobile=names.mobile(rng),
        )
        if rng.random() < 0.6:
            data["email"] = f"user{seq:05d}@mail.example.cn"
        return data
    if rng.random() < 0.85:
        company, industry = names.chinese_company(rng, city)
    else:
        company, industry = names.english_company(rng)
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
        email=f"info{seq:05d}@corp.example.cn",
        legal_representative=names.chinese_person(rng),
        founded_on=founded,
        organisation_form=rng.choice(["有限责任公司", "股份有限公司", "个人独资企业", "事业单位"]),
        registered_capital=Decimal(rng.choice([50, 100, 200, 500, 1000, 5000])) * 10000,
        trade_terms=rng.choice(["款到发货", "月结30天", "月结60天", "预付30%"]),
        credit_rating=rng.choices(list(CreditRating.values), weights=[20, 45, 25, 8, 2])[0],
        credit_limit=Decimal(rng.choice([5, 10, 20, 50, 100])) * 1000,
        service_area=rng.choice(["本市", "本省", "华东地区", "华北地区", "全国"]),
        business_style=rng.choice(["稳健", "进取", "保守", "灵活"]),
        reputation=rng.choice(["良好", "一般", "优秀"]),
    )
    if rng.random() < 0.3:
        data.update(
            legal_rep_personality=rng.choice(["务实谨慎", "果断直爽", "注重细节"]),
            legal_rep_interests=rng.choice(names.INTERESTS),
            legal_rep_birth_year=rng.randrange(1955, 1990),
        )
    if rng.random() < 0.15:
        data["overdue_amount"] = Decimal(rng.randrange(1, 80)) * 500
        data["credit_incidents"] = "去年曾逾期付款一次，已结清。"
    return data


def _owner(rng: random.Random, team: str, users: dict[str, User]) -> User:
    if team == "east":
        return users["manager1"] if rng.random() < 0.08 else users["sales1"]
    return users["manager2"] if rng.random() < 0.08 else users["sales2"]


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def is_loaded() -> bool:
    return Customer.objects.filter(external_id="CD00001").exists()


def load(progress: Progress = lambda message: None) -> LoadResult:
    users = _ensure_users()
    if is_loaded():
        return LoadResult(created=False)
    with transaction.atomic():
        return _load(users, progress)


def _load(users: dict[str, User], progress: Progress) -> LoadResult:
    rng = random.Random(SEED)
    admin = users["admin"]
    now = timezone.now()
    progress("Reading the CDNOW purchase history")
    purchases = read_cdnow()
    last_day = _shift(max(p[0] for rows in purchases.values() for p in rows))
    products = {}
    for code, name, price, cost in PRODUCTS:
        products[code], _created = Product.objects.get_or_create(
            code=code,
            defaults={"name": name, "unit_price": Decimal(price), "unit_cost": Decimal(cost)},
        )
    music = [p for code, p in products.items() if code.startswith("CD-")]

    progress("Creating customers")
    customers, owners, states, teams, firsts = [], [], [], [], []
    ids = sorted(purchases) + list(range(900001, 900001 + PROSPECTS))
    for cid in ids:
        data = _profile(rng, cid)
        team = data.pop("_team")
        owner = _owner(rng, team, users)
        history = purchases.get(cid)
        if history:
            days = sorted({_shift(p[0]) for p in history})
            state, reason = _state(days, last_day)
            data["trading_since"] = days[0]
        else:
            state = rng.choices(
                [LifecycleState.POTENTIAL, LifecycleState.TARGET, LifecycleState.NON_CUSTOMER],
                weights=[60, 30, 10],
            )[0]
            reason = (
                "展会线索" if state != LifecycleState.NON_CUSTOMER else "与我们的产品不匹配"
            )
        customer = Customer(
            external_id=f"CD{cid:05d}" if cid < 900001 else f"LD{cid - 900000:05d}",
            owner=owner,
            lifecycle_state=state,
            created_by=admin,
            updated_by=admin,
            **data,
        )
        customers.append(customer)
        owners.append(owner)
        states.append((state, reason))
        teams.append(team)
        firsts.append(history[0][0] if history else None)
    customers = invariants.insert(
        customers, by=admin, reason="演示数据", source=TransitionSource.IMPORT, at=now,
        state_reasons=[r for _s, r in states], batch_size=2000)

    progress("Creating contacts")
    contacts = []
    for customer in customers:
        if customer.kind != CustomerKind.ORGANISATION:
            continue
        for i in range(rng.choice([1, 1, 2, 3])):
            title = rng.choice(names.JOB_TITLES)[0]
            contacts.append(
                Contact(
                    customer=customer,
                    name=names.chinese_person(rng),
                    title=title,
                    phone=names.mobile(rng),
                    is_primary=i == 0,
                    decision_role=rng.choice(list(DecisionRole.values)),
                    personal_interests=rng.choice(names.INTERESTS) if rng.random() < 0.4 else "",
                    birthday=dt.date(
                        rng.randrange(1965, 2000), rng.randrange(1, 13), rng.randrange(1, 29)
                    )
                    if rng.random() < 0.3
                    else None,
                )
            )
    bulk_create_with_history(
        contacts, Contact, batch_size=5000, default_user=admin, default_change_reason="演示数据"
    )

    progress("Creating transactions")
    txn_count = _transactions(rng, customers, owners, purchases, music)

    progress("Creating activities")
    activities = []
    for customer, owner, first in zip(customers, owners, firsts, strict=True):
        start = _shift(first) if first else last_day - dt.timedelta(days=rng.randrange(1, 120))
        # Households get a call or an e-mail now and then; firms are visited and met.
        household = customer.kind == CustomerKind.PERSON
        templates = REMOTE_TEMPLATES if household else ACTIVITY_TEMPLATES
        for _i in range(rng.choice([0, 0, 1, 1, 2] if household else [1, 2, 3, 4])):
            kind, subject, body = rng.choice(templates)
            day = min(start + dt.timedelta(days=rng.randrange(0, 400)), last_day)
            at = dt.datetime.combine(
                day,
                dt.time(rng.randrange(9, 18), rng.choice([0, 15, 30])),
                tzinfo=timezone.get_current_timezone(),
            )
            activities.append(
                Activity(
                    customer=customer,
                    kind=kind,
                    subject=subject,
                    body=body,
                    occurred_at=at,
                    author=owner,
                )
            )
    Activity.objects.bulk_create(activities, batch_size=5000)

    progress("Lending customer files")
    _loans(customers, users)

    progress("Giving everyone work for this week")
    _workbench(rng, customers, users)

    result = LoadResult(
        created=True,
        customers=len(customers),
        transactions=txn_count,
        contacts=len(contacts),
        activities=len(activities),
    )
    record(
        admin,
        "demo.load",
        via="cli",
        detail={
            "customers": result.customers,
            "transactions": result.transactions,
            "contacts": result.contacts,
            "activities": result.activities,
        },
    )
    return result


def _loans(customers: list[Customer], users: dict[str, User]) -> None:
    """One customer file of East on loan to sales2 of North, and sales1's request for one of
    North's waiting for an answer (kehu.loans)."""
    east = next(c for c in customers if c.owner_id == users["sales1"].pk and c.external_id)
    north = next(c for c in customers if c.owner_id == users["sales2"].pk and c.external_id)
    lent = loans.request_loan(users["sales2"], east.external_id, "客户来电询问订单，需查看联系人",
                              days=5, via="cli")
    loans.approve_loan(users["manager1"], lent, note="只读，仅供处理此订单", via="cli")
    loans.request_loan(users["sales1"], north.external_id, "该客户的上海分公司想与我们合作",
                       via="cli")


# Work on each demo user's workbench (我的工作台): (days from today, kind, priority, title).
# Negative days are overdue, 0 is due today; visits fall in this week.
WORK = {
    "sales": [(-3, TaskKind.CALL, TaskPriority.HIGH, "回访：确认上月订单的售后问题"),
              (-1, TaskKind.EMAIL, TaskPriority.NORMAL, "发送新季度报价单"),
              (0, TaskKind.CALL, TaskPriority.HIGH, "电话确认本周拜访时间"),
              (0, TaskKind.TODO, TaskPriority.NORMAL, "准备合同续签材料"),
              (2, TaskKind.VISIT, TaskPriority.NORMAL, "上门拜访，介绍新品目录"),
              (4, TaskKind.VISIT, TaskPriority.HIGH, "拜访采购负责人，洽谈年度框架协议"),
              (9, TaskKind.MEETING, TaskPriority.LOW, "季度业务回顾会议")],
    "manager": [(-2, TaskKind.TODO, TaskPriority.HIGH, "审批大客户的账期申请"),
                (0, TaskKind.CALL, TaskPriority.NORMAL, "与重点客户负责人通话"),
                (3, TaskKind.VISIT, TaskPriority.NORMAL, "陪同销售拜访重点客户")],
    "other": [(-1, TaskKind.TODO, TaskPriority.NORMAL, "核对客户资料中的联系方式"),
              (0, TaskKind.CALL, TaskPriority.NORMAL, "回访客户满意度"),
              (5, TaskKind.TODO, TaskPriority.LOW, "整理本月客户反馈")],
}


def _workbench(rng: random.Random, customers: list[Customer], users: dict[str, User]) -> None:
    """Tasks for every demo user — some overdue, some due today, visits this week — on
    customers they may see, and the visits sales made earlier this week."""
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    tz = timezone.get_current_timezone()
    east = [c for c in customers if c.owner_id in (users["sales1"].pk, users["manager1"].pk)]
    north = [c for c in customers if c.owner_id in (users["sales2"].pk, users["manager2"].pk)]
    tasks, visits = [], []
    for username, user in users.items():
        if username == "admin":
            pool, plan = east + north, WORK["other"]
        else:
            own = [c for c in customers if c.owner_id == user.pk]
            pool = own or (east if user.team and user.team.name == TEAMS["east"] else north)
            plan = WORK["sales"] if user.role == Role.SALES else (
                WORK["manager"] if user.role == Role.MANAGER else WORK["other"])
        picked = rng.sample(pool, len(plan) + 2)
        for (days, kind, priority, title), customer in zip(plan, picked, strict=False):
            due = today + dt.timedelta(days=days)
            if kind == TaskKind.VISIT and due >= monday + dt.timedelta(days=7):
                due = monday + dt.timedelta(days=6)  # the visits stay in this week
            tasks.append(Task(customer=customer, assignee=user, title=title, due_on=due,
                              kind=kind, priority=priority, created_by=users["admin"]))
        if user.role in (Role.SALES, Role.MANAGER):
            # Visits already made this week (today's, early in the morning, on a Monday).
            for offset, customer in enumerate(picked[-2:]):
                day = max(monday, today - dt.timedelta(days=1 + offset))
                visits.append(Activity(
                    customer=customer, kind=ActivityKind.VISIT, author=user,
                    subject="上门拜访，了解采购计划", body="客户计划下季度增加采购。",
                    occurred_at=dt.datetime.combine(day, dt.time(9 + 2 * offset, 30), tzinfo=tz)))
    Task.objects.bulk_create(tasks)
    Activity.objects.bulk_create(visits)


def _transactions(
    rng: random.Random,
    customers: list[Customer],
    owners: list[User],
    purchases: dict,
    music: list[Product],
) -> int:
    txns, lines = [], []
    for customer, owner in zip(customers, owners, strict=True):
        history = (
            purchases.get(int(customer.external_id[2:]))
            if customer.external_id.startswith("CD")
            else None
        )
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
                number=f"SO{_shift(day):%Y%m%d}-{customer.external_id[2:]}-{n}",
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
