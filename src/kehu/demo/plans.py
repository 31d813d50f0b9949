"""Two key-account plans for the demo firm, in the demo's language: one with a bookshop
chain that buys on price, one with a hotel group that buys solutions. Each has a full
decision chain (every role, attitudes and relationships of every kind), two competitors
with all six answers, recent purchases that show the customer's buying orientation, and
an action plan whose steps are tasks, some of them done. Deterministic: the customers are
picked by a fixed rule and every text and date is fixed relative to the demo's last day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Count

from kehu.accounts.models import User
from kehu.customers.models import Customer, CustomerKind, Product
from kehu.customers.services import create_contact, create_transaction
from kehu.sales.plans import services as plans
from kehu.tasks.services import complete_task

# role, attitude, our relationship, (name, title) in Chinese and in English
CHAINS = {
    "price": [
        ("approver", "neutral", "acquainted",
         ("周建华", "总经理"),
         ("Henry Zhou", "General manager")),
        ("decision_maker", "supports", "good",
         ("钱雅琴", "采购总监"),
         ("Grace Qian", "Head of purchasing")),
        ("decision_maker", "opposes", "acquainted",
         ("孙立", "财务总监"),
         ("Leo Sun", "Finance director")),
        ("evaluator", "supports", "close",
         ("李晓梅", "门店运营经理"),
         ("May Li", "Store operations manager")),
        ("evaluator", "neutral", "good",
         ("吴敏", "音像区主管"),
         ("Min Wu", "Music corner supervisor")),
        ("influencer", "neutral", "none",
         ("郑国栋", "书业协会秘书长"),
         ("Guodong Zheng", "Secretary of the booksellers' association")),
        ("influencer", "", "",
         ("冯雪", "外聘顾问"),
         ("Snow Feng", "Retained consultant")),
    ],
    "solution": [
        ("approver", "supports", "good",
         ("赵志远", "集团董事长"),
         ("Vincent Zhao", "Chairman of the group")),
        ("decision_maker", "supports", "close",
         ("何静怡", "运营副总裁"),
         ("Jenny He", "VP operations")),
        ("decision_maker", "neutral", "acquainted",
         ("韩冬", "采购负责人"),
         ("Dong Han", "Head of purchasing")),
        ("evaluator", "opposes", "acquainted",
         ("马俊", "工程部经理"),
         ("Jun Ma", "Engineering manager")),
        ("evaluator", "supports", "good",
         ("杨柳", "品牌体验总监"),
         ("Willow Yang", "Brand experience director")),
        ("influencer", "neutral", "none",
         ("曹阳", "文旅局科长"),
         ("Yang Cao", "Section chief, culture and tourism bureau")),
        ("influencer", "opposes", "none",
         ("许诺", "设计公司合伙人"),
         ("Nora Xu", "Partner at the design firm")),
    ],
}

PLANS = {
    "zh-hans": {
        "price": {
            "situation": "连锁书店，在本区域有 12 家门店，音像区由总部统一采购，每月补货一次。",
            "challenges": "线上音乐平台分流顾客，音像区坪效逐年下降；总部要求压缩库存。",
            "strategy": "只保留畅销唱片，以节假日促销带动客流；供应商数量从 5 家减到 2 家。",
            "decision_factors": "进货价格、退货条件和账期；其次是到货速度。",
            "objectives": "年内成为其两家保留供应商之一，销售额提升 20%，账期不超过 60 天。",
            "relationship_level": "interest",
            "competitors": [
                (
                    "星光音像",
                    "本地老牌音像批发商，成立二十年。",
                    "低价走量，主攻连锁零售渠道。",
                    "给采购部门返点，节假日提供促销人员。",
                    "价格低，库存全，配送快。",
                    "品类老化，无新品首发，售后响应慢。",
                    "老板直接管大客户，业务员各自负责片区。",
                ),
                (
                    "华音唱片配送",
                    "全国性唱片分销公司在本区域的分公司。",
                    "以独家版权新品吸引客户，价格偏高。",
                    "签订年度框架协议，承诺新品首发。",
                    "新品多，品牌知名度高。",
                    "价格缺乏弹性，对中小订单不重视。",
                    "区域经理负责，重大报价需总部审批。",
                ),
            ],
            "steps": [
                (-20, "向采购总监提交年度阶梯价格方案",
                 True),
                (-5, "与财务总监确认 60 天账期的条件",
                 True),
                (7, "陪同门店运营经理巡店，了解畅销品类",
                 False),
                (21, "拜访总经理，争取进入保留供应商名单",
                 False),
            ],
        },
        "solution": {
            "situation": (
                "本地高端酒店集团，旗下 6 家酒店，正在统一大堂和餐厅的背景音乐与音响系统。"),
            "challenges": "各酒店音乐风格不一，品牌体验不统一；老旧音响故障多，维护成本高。",
            "strategy": "打造统一的品牌体验，两年内完成全部门店的音响改造。",
            "decision_factors": "整体方案是否省心、长期维护成本、与品牌调性的契合。",
            "objectives": "承接全部 6 家酒店的音响安装和背景音乐曲库，签订三年服务协议。",
            "relationship_level": "partnership",
            "competitors": [
                (
                    "声悦科技",
                    "专业音响工程公司，做过多家连锁酒店。",
                    "以工程能力见长，定位中高端酒店。",
                    "提供免费设计方案，绑定后续维护合同。",
                    "工程经验丰富，设备品牌齐全。",
                    "不提供曲库和内容服务，报价偏高。",
                    "项目制，每个项目一名项目经理。",
                ),
                (
                    "星光音像",
                    "本地老牌音像批发商。",
                    "低价供货，近期开始涉足安装服务。",
                    "与酒店采购负责人私交较好。",
                    "唱片价格低。",
                    "缺乏工程资质，安装团队靠外包。",
                    "老板直接管大客户。",
                ),
            ],
            "steps": [
                (-30, "为集团做一次背景音乐品牌诊断并提交报告",
                 True),
                (-10, "在旗舰酒店完成试点安装",
                 True),
                (10, "与工程部经理逐条答复试点中的问题",
                 False),
                (30, "向董事长汇报三年服务方案",
                 False),
            ],
        },
    },
    "en": {
        "price": {
            "situation": (
                "A bookshop chain with 12 shops in the region; the music corners are "
                "bought centrally and restocked monthly."),
            "challenges": (
                "Streaming draws customers away and the music corners earn less per "
                "square metre each year; head office wants less stock."),
            "strategy": (
                "Keep only best sellers and bring people in with holiday promotions; "
                "cut suppliers from five to two."),
            "decision_factors": (
                "Purchase price, return terms and payment terms; then speed of "
                "delivery."),
            "objectives": (
                "Be one of the two suppliers they keep this year, revenue up 20%, "
                "payment within 60 days."),
            "relationship_level": "interest",
            "competitors": [
                (
                    "Starlight Audio",
                    "A local music wholesaler of twenty years' standing.",
                    "Low prices and volume, aimed at retail chains.",
                    "Rebates to the purchasing team; promoters lent for the "
                    "holidays.",
                    "Low prices, full stock, fast delivery.",
                    "An ageing range, no first releases, slow after-sales "
                    "service.",
                    "The owner handles key accounts; each rep has a territory.",
                ),
                (
                    "Huayin Records Distribution",
                    "The regional branch of a national record distributor.",
                    "Exclusive new releases at a higher price.",
                    "Yearly framework agreements with first releases promised.",
                    "Many new titles, a well-known brand.",
                    "Inflexible prices; small orders get little attention.",
                    "A regional manager; large quotes need head office's "
                    "approval.",
                ),
            ],
            "steps": [
                (-20, "Send the head of purchasing a yearly tiered price offer",
                 True),
                (-5, "Agree the terms of 60-day payment with the finance director",
                 True),
                (7, "Tour the shops with the store operations manager to see what sells",
                 False),
                (21, "Visit the general manager to join the suppliers they keep",
                 False),
            ],
        },
        "solution": {
            "situation": (
                "A local group of six upmarket hotels, bringing the background music "
                "and sound systems of lobbies and restaurants into one standard."),
            "challenges": (
                "Each hotel sounds different, so the brand feels different; old sound "
                "systems break down and cost a lot to maintain."),
            "strategy": (
                "One brand experience everywhere; every hotel's sound system renewed "
                "within two years."),
            "decision_factors": (
                "A solution they need not worry about, the cost of upkeep over the "
                "years, a fit with the brand."),
            "objectives": (
                "Install the sound systems and supply the music library of all six "
                "hotels under a three-year service agreement."),
            "relationship_level": "partnership",
            "competitors": [
                (
                    "Sonic Joy Technology",
                    "A professional audio engineering firm that has fitted out "
                    "several hotel chains.",
                    "Engineering strength, mid- to upper-range hotels.",
                    "Free design proposals tied to a maintenance contract.",
                    "Much engineering experience, every equipment brand.",
                    "No music library or content service; high prices.",
                    "By project, one project manager each.",
                ),
                (
                    "Starlight Audio",
                    "A local music wholesaler.",
                    "Cheap supply, lately installation too.",
                    "On good personal terms with the hotels' head of purchasing.",
                    "Low prices for records.",
                    "No engineering licence; installers are subcontracted.",
                    "The owner handles key accounts.",
                ),
            ],
            "steps": [
                (-30, "Diagnose the group's background music and send the report",
                 True),
                (-10, "Finish the pilot installation in the flagship hotel",
                 True),
                (10, "Answer the engineering manager's points on the pilot one by one",
                 False),
                (30, "Present the three-year service offer to the chairman",
                 False),
            ],
        },
    },
}

DONE_NOTE = {"zh-hans": "已完成，客户反馈积极。", "en": "Done; the customer welcomed it."}

# What each customer bought lately: (product code, quantity, unit price) per order, so that
# the suggested orientation shows: the chain buys best sellers 20% below list, the hotels
# buy box sets, installation and classical records together at list price.
ORDERS = {
    "price": [("CD-POP", 30, "12.00"), ("CD-ROK", 20, "11.60")],
    "solution": [("CD-BOX", 10, "48.00"), ("SVC-INS", 1, "120.00"), ("CD-CLS", 20, "18.00")],
}


def _pick(owner: User, taken: set[int]) -> Customer | None:
    """An organisation of the owner won lately (a new buyer, NB…), else a lead (LD…): not
    one of the CDNOW customers, whose purchase history stays as the source has it. The
    lowest id, so that every load picks the same."""
    qs = (Customer.objects.filter(owner=owner, kind=CustomerKind.ORGANISATION)
          .exclude(pk__in=taken).exclude(external_id__startswith="CD").order_by("pk"))
    return (qs.filter(external_id__startswith="NB").annotate(n=Count("transactions"))
            .filter(n__lte=2).first()
            or qs.filter(external_id__startswith="LD").first() or qs.first())


def load(users: dict[str, User], language: str, last_day: dt.date) -> int:
    """Create the two plans; returns how many."""
    admin = users["admin"]
    texts = PLANS[language]
    made, taken = 0, set()
    for kind, owner in (("price", users["sales1"]), ("solution", users["sales2"])):
        customer = _pick(owner, taken)
        if customer is None:
            continue
        taken.add(customer.pk)
        text = texts[kind]
        for role, attitude, relationship, zh, en in CHAINS[kind]:
            name, title = zh if language == "zh-hans" else en
            create_contact(admin, customer, {"name": name, "title": title,
                                             "decision_role": role, "attitude": attitude,
                                             "our_relationship": relationship}, via="cli")
        products = {p.code: p for p in Product.objects.all()}
        for n in range(8 if kind == "price" else 6):
            create_transaction(admin, customer, date=last_day - dt.timedelta(days=20 + 45 * n),
                               lines=[{"product": products[code].pk, "quantity": qty,
                                       "unit_price": Decimal(price),
                                       "unit_cost": products[code].unit_cost,
                                       "description": products[code].name}
                                      for code, qty, price in ORDERS[kind]], via="cli")
        plan = plans.create_plan(admin, customer, {
            f: text[f] for f in ("situation", "challenges", "strategy", "decision_factors",
                                 "objectives", "relationship_level")} | {
            "buying_orientation": kind, "review_on": last_day + dt.timedelta(days=30)},
            owner=owner, via="cli")
        for name, *answers in text["competitors"]:
            plans.add_competitor(admin, plan, new_name=name, data=dict(zip(
                ("who_they_are", "positioning", "relationship_levers", "strengths",
                 "weaknesses", "organisation"), answers, strict=True)), via="cli")
        for days, title, done in text["steps"]:
            step = plans.add_step(admin, plan, title=title, owner=owner,
                                  due_on=last_day + dt.timedelta(days=days), via="cli")
            if done:
                complete_task(owner, step.task, note=DONE_NOTE[language], via="cli")
        made += 1
    return made
