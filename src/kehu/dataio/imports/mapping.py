"""Which file column goes into which field.

Headers are matched to the field names, the fields' labels in English and Chinese, and the
words Chinese spreadsheets commonly use (手机, 下单日期, 金额...). A user who corrects the
matching can save it by name and reuse it for the next file of the same shape.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from kehu.customers.models import (
    CONTACT_FIELDS,
    CUSTOMER_FIELDS,
    Contact,
    Customer,
    Product,
    Transaction,
)
from kehu.dataio.models import ImportKind, ImportMapping
from kehu.sales.leads.models import CHECKLIST, Lead
from kehu.sales.models import Activity, Payment, Receivable

LEAD_FIELDS = ("name", "source", "source_detail", "referrer", "industry", "province", "city",
               "size", "website", "contact_name", "contact_title", "phone", "email", "notes",
               "money", "money_note", "authority", "authority_note", "need", "need_note",
               *(name for name, _label in CHECKLIST), "owner")

# The columns each kind of import understands, in the order the documentation lists them.
# "customer" is a reference: the customer's external id, or its exact name.
FIELDS: dict[str, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: (*CUSTOMER_FIELDS, "owner", "lifecycle_state"),
    ImportKind.CONTACTS: ("customer", *CONTACT_FIELDS),
    ImportKind.TRANSACTIONS: ("customer", "date", "amount", "cost", "number", "kind", "notes"),
    ImportKind.PRODUCTS: ("code", "name", "unit_price", "unit_cost", "active"),
    ImportKind.ACTIVITIES: ("customer", "kind", "subject", "body", "occurred_at"),
    ImportKind.RECEIVABLES: ("customer", "number", "issued_on", "due_on", "amount", "notes"),
    # "receivable" is the invoice number of one of the customer's receivables.
    ImportKind.PAYMENTS: ("customer", "receivable", "paid_on", "amount", "method", "reference"),
    ImportKind.LEADS: LEAD_FIELDS,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    ImportKind.CUSTOMERS: ("name",),
    ImportKind.CONTACTS: ("customer", "name"),
    ImportKind.TRANSACTIONS: ("customer", "date", "amount"),
    ImportKind.PRODUCTS: ("code", "name"),
    ImportKind.ACTIVITIES: ("customer", "subject"),
    ImportKind.RECEIVABLES: ("customer", "issued_on", "amount"),
    ImportKind.PAYMENTS: ("customer", "receivable", "paid_on", "amount"),
    ImportKind.LEADS: ("name", "source"),
}
MODELS: dict[str, type[models.Model]] = {
    ImportKind.CUSTOMERS: Customer,
    ImportKind.CONTACTS: Contact,
    ImportKind.TRANSACTIONS: Transaction,
    ImportKind.PRODUCTS: Product,
    ImportKind.ACTIVITIES: Activity,
    ImportKind.RECEIVABLES: Receivable,
    ImportKind.PAYMENTS: Payment,
    ImportKind.LEADS: Lead,
}

# Words found in real spreadsheets, beyond the fields' own labels. Per kind where a word
# means different things: 客户编号 is the customer's own id in a customer list, and the
# reference to a customer in an order list.
_COMMON = {
    "phone": ["电话", "座机", "固定电话", "联系电话", "电话号码", "tel", "telephone"],
    "mobile": ["手机", "手机号", "手机号码", "移动电话", "cell", "cellphone", "mobile phone"],
    "email": ["邮箱", "电子邮件", "电子邮箱", "邮件", "邮件地址", "email", "e-mail", "mail"],
    "notes": ["备注", "说明", "remark", "remarks", "note"],
}
SYNONYMS: dict[str, dict[str, list[str]]] = {
    ImportKind.CUSTOMERS: {
        **_COMMON,
        "name": ["客户名称", "客户名", "名称", "公司名称", "公司", "单位名称", "企业名称", "客户",
                 "customer", "customer name", "company", "company name"],
        "external_id": ["客户编号", "外部编号", "客户代码", "编号", "客户id", "id", "code",
                        "customer id", "customer code", "customer number"],
        "kind": ["客户类型", "类型", "type"],
        "owner": ["负责人", "业务员", "销售员", "客户经理", "销售"],
        "city": ["城市", "市"],
        "province": ["省份", "省", "省市"],
        "address": ["地址", "详细地址", "通讯地址", "联系地址"],
        "industry": ["行业", "所属行业"],
        "nature": ["客户性质", "性质"],
        "website": ["网站", "网址", "主页"],
        "legal_representative": ["法人代表", "法定代表人", "法人"],
        "founded_on": ["成立日期", "成立时间"],
        "trading_since": ["合作开始日期", "开始合作日期", "首次合作日期"],
        "registered_capital": ["注册资本", "注册资金"],
        "organisation_form": ["组织形式", "企业类型"],
        "size": ["企业规模", "规模", "公司规模"],
        "service_group": ["服务群体", "客户群体"],
        "lifecycle_state": ["客户状态", "状态", "生命周期", "state", "status"],
        "credit_rating": ["信用状况", "信用等级", "信用"],
        "credit_limit": ["信用额度", "授信额度"],
        "payment_terms_days": ["账期", "账期天数", "付款期限", "payment terms"],
        "trade_terms": ["交易条件", "付款条件"],
        "reputation": ["声誉", "信誉"],
    },
    ImportKind.CONTACTS: {
        **_COMMON,
        "customer": ["客户", "客户名称", "公司", "公司名称", "客户编号", "外部编号", "客户代码",
                     "customer", "customer name", "company", "customer id"],
        "name": ["联系人", "联系人姓名", "姓名", "名字", "contact", "contact name"],
        "title": ["职务", "职位", "岗位", "title", "position"],
        "decision_role": ["决策链角色", "决策角色", "角色", "role"],
        "attitude": ["态度", "对我方态度", "立场", "attitude"],
        "our_relationship": ["关系", "我方关系", "关系程度", "relationship"],
        "is_primary": ["主要联系人", "首要联系人", "primary"],
        "birthday": ["生日", "出生日期"],
        "personal_interests": ["个人爱好", "兴趣爱好", "爱好", "interests"],
    },
    ImportKind.TRANSACTIONS: {
        **_COMMON,
        "customer": ["客户", "客户编号", "外部编号", "客户代码", "客户名称", "customer",
                     "customer id", "customer code", "customer number", "customer name"],
        "date": ["下单日期", "日期", "订单日期", "交易日期", "开票日期", "order date"],
        "amount": ["金额", "订单金额", "交易金额", "销售额", "总金额", "总价", "total"],
        "cost": ["成本", "销售成本", "成本金额", "cost"],
        "number": ["单号", "订单号", "订单编号", "单据编号", "发票号", "order number",
                   "order no", "no"],
        "kind": ["类型", "交易类型", "单据类型", "type"],
    },
    ImportKind.PRODUCTS: {
        "code": ["产品编码", "产品代码", "编码", "货号", "产品编号", "sku"],
        "name": ["产品名称", "品名", "名称", "产品", "product", "product name"],
        "unit_price": ["单价", "售价", "价格", "price"],
        "unit_cost": ["单位成本", "成本价", "进价", "成本", "cost"],
        "active": ["启用", "在售", "状态"],
    },
    ImportKind.ACTIVITIES: {
        "customer": ["客户", "客户编号", "外部编号", "客户名称", "customer", "customer id"],
        "kind": ["类型", "活动类型", "方式", "type"],
        "subject": ["主题", "标题", "事项", "title"],
        "body": ["内容", "详情", "记录", "描述", "description", "details"],
        "occurred_at": ["时间", "日期", "发生时间", "活动时间", "date", "time"],
    },
    ImportKind.RECEIVABLES: {
        "notes": _COMMON["notes"],
        "customer": ["客户", "客户编号", "外部编号", "客户代码", "客户名称", "customer",
                     "customer id", "customer code", "customer name"],
        "number": ["发票号", "发票号码", "发票编号", "单号", "单据编号", "invoice",
                   "invoice number", "invoice no", "number", "no"],
        "issued_on": ["开票日期", "发票日期", "日期", "invoice date", "date", "issued"],
        "due_on": ["到期日", "到期日期", "应收日期", "付款到期日", "due", "due date"],
        "amount": ["金额", "应收金额", "发票金额", "应收账款", "total", "amount due"],
    },
    ImportKind.PAYMENTS: {
        "customer": ["客户", "客户编号", "外部编号", "客户代码", "客户名称", "customer",
                     "customer id", "customer code", "customer name"],
        "receivable": ["发票号", "发票号码", "发票编号", "单号", "应收单号", "invoice",
                       "invoice number", "invoice no"],
        "paid_on": ["付款日期", "回款日期", "收款日期", "到账日期", "日期", "date",
                    "payment date", "paid on"],
        "amount": ["金额", "付款金额", "回款金额", "收款金额", "amount paid", "paid"],
        "method": ["付款方式", "支付方式", "收款方式", "方式", "payment method"],
        "reference": ["流水号", "凭证号", "参考号", "银行流水", "ref"],
    },
    ImportKind.LEADS: {
        **_COMMON,
        "name": ["线索", "线索名称", "客户名称", "公司名称", "公司", "单位名称", "企业名称", "名称",
                 "company", "company name", "organisation", "organization", "lead"],
        "source": ["来源", "线索来源", "渠道", "source", "lead source"],
        "source_detail": ["来源说明", "来源详情", "展会名称", "source detail"],
        "referrer": ["推荐人", "推荐客户", "推荐方", "referrer", "referred by"],
        "industry": ["行业", "所属行业"],
        "province": ["地区", "省份", "省", "region", "province"],
        "city": ["城市", "市"],
        "size": ["企业规模", "规模", "公司规模"],
        "website": ["网站", "网址", "主页"],
        "contact_name": ["联系人", "联系人姓名", "姓名", "contact", "contact name"],
        "contact_title": ["职务", "职位", "title", "position"],
        "money": ["购买力", "money", "m"],
        "authority": ["决策权", "authority", "a"],
        "need": ["需求", "need", "n"],
        "money_note": ["购买力说明", "购买力理由"],
        "authority_note": ["决策权说明", "决策权理由"],
        "need_note": ["需求说明", "需求理由"],
        "owner": ["负责人", "业务员", "销售员", "客户经理", "销售"],
    },
}

# Chinese names of choice values (GLOSSARY.md), accepted in cells besides the value and its
# label in either language.
CHOICE_SYNONYMS: dict[str, dict[str, str]] = {
    "kind": {"组织": "organisation", "企业": "organisation", "公司": "organisation",
             "单位": "organisation", "个人": "person"},
    "nature": {"政府机关": "government", "政府": "government", "特殊公司": "special",
               "普通公司": "ordinary", "个人": "individual", "经销商": "dealer",
               "合作伙伴": "dealer", "经销商/合作伙伴": "dealer"},
    "service_group": {"大型企业": "large", "大客户": "large", "中小企业": "sme",
                      "家庭用户": "household", "家庭": "household"},
    "size": {"微型": "micro", "小型": "small", "中型": "medium", "大型": "large"},
    "lifecycle_state": {"潜在客户": "potential", "潜在": "potential", "目标客户": "target",
                        "目标": "target", "初次购买": "first", "重复购买": "repeat",
                        "忠诚客户": "loyal", "忠诚": "loyal", "流失客户": "churned",
                        "流失": "churned", "非客户": "non_customer"},
    "credit_rating": {"优秀": "excellent", "优": "excellent", "良好": "good", "良": "good",
                      "一般": "fair", "中": "fair", "差": "poor", "较差": "poor",
                      "冻结": "blocked", "黑名单": "blocked"},
    # Seed 001's words; the old "supporter" (支持者) and "user" (使用者, the using department)
    # are evaluators, as customers migration 0010 maps them.
    "decision_role": {"决策批准人": "approver", "批准人": "approver", "批准者": "approver",
                      "决策者": "decision_maker", "决策支撑者": "evaluator",
                      "支撑者": "evaluator", "评估者": "evaluator", "支持者": "evaluator",
                      "supporter": "evaluator", "使用者": "evaluator", "user": "evaluator",
                      "决策影响者": "influencer", "影响者": "influencer"},
    "attitude": {"支持": "supports", "支持我们": "supports", "中立": "neutral",
                 "反对": "opposes", "反对我们": "opposes", "supports": "supports",
                 "opposes": "opposes"},
    "our_relationship": {"无": "none", "未建立": "none", "认识": "acquainted",
                         "良好": "good", "好": "good", "密切": "close"},
    "transaction_kind": {"订单": "order", "发票": "invoice", "退货": "return", "退单": "return"},
    "payment_method": {"转账": "transfer", "银行转账": "transfer", "电汇": "transfer",
                       "承兑汇票": "acceptance", "银行承兑汇票": "acceptance", "承兑": "acceptance",
                       "支票": "cheque", "现金": "cash", "其他": "other"},
    "lead_source": {"展会": "exhibition", "展览会": "exhibition", "推荐": "referral",
                    "客户推荐": "referral", "转介绍": "referral", "网站": "website",
                    "官网": "website", "商业中介": "intermediary", "中介": "intermediary",
                    "公开资料": "public_records", "公开信息": "public_records",
                    "媒体": "media", "陌生拜访": "cold_call", "电话营销": "cold_call",
                    "其他": "other"},
    "activity_kind": {"备注": "note", "电话": "call", "拜访": "visit", "会议": "meeting",
                      "邮件": "email"},
}

_PUNCT = re.compile(r"[\s_\-*:：#.·/]+")
_PAREN = re.compile(r"[(（\[【].*?[)）\]】]")


def header_key(text: str) -> str:
    """How headers are compared: width, case, spacing and punctuation do not matter."""
    text = unicodedata.normalize("NFKC", str(text or "")).casefold().strip()
    return _PUNCT.sub("", text)


def _labels(field: models.Field) -> list[str]:
    labels = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            labels.append(str(field.verbose_name))
    return labels


def field_label(kind: str, name: str) -> str:
    """The field's label in the active language, for reports."""
    if name == "customer":
        return str(_("customer"))
    try:
        return str(MODELS[kind]._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a pseudo-field such as "owner" on another model
        return name


def _candidates(kind: str) -> dict[str, str]:
    """Every known spelling (as header_key) → field, the field's own names first."""
    model = MODELS[kind]
    keys: dict[str, str] = {}
    spellings: list[tuple[str, str]] = []
    for name in FIELDS[kind]:
        spellings.append((name, name))
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001
            field = None
        if field is not None and name != "customer":
            spellings += [(label, name) for label in _labels(field)]
    for name, words in SYNONYMS.get(kind, {}).items():
        if name in FIELDS[kind]:
            spellings += [(w, name) for w in words]
    for spelling, name in spellings:
        keys.setdefault(header_key(spelling), name)
    return keys


@dataclass
class ColumnMapping:
    """header → field for the columns that are used; the rest are listed as ignored."""

    columns: dict[str, str]
    ignored: list[str]
    problems: list[str]

    def field_to_header(self) -> dict[str, str]:
        return {f: h for h, f in self.columns.items()}


def auto_map(kind: str, headers: Iterable[str]) -> dict[str, str | None]:
    candidates = _candidates(kind)
    result: dict[str, str | None] = {}
    for header in headers:
        key = header_key(header)
        result[header] = candidates.get(key) or candidates.get(header_key(_PAREN.sub("", header)))
    return result


def resolve(kind: str, headers: list[str], saved: Mapping[str, str] | None = None,
            overrides: Mapping[str, str] | None = None) -> ColumnMapping:
    """The mapping to use: automatic matching, corrected by a saved mapping and then by
    explicit overrides. Problems are whole-file errors (a column mapped twice, a required
    field without a column, an unknown field)."""
    mapping = auto_map(kind, headers)
    problems: list[str] = []
    fields = FIELDS[kind]
    by_key = {header_key(h): h for h in headers}
    named: dict[str, int] = {}
    for number, header in enumerate(headers, start=1):
        if header and header in named:
            # Rows are read by header: one of the two columns would be dropped unseen.
            problems.append(_("Columns %(a)d and %(b)d are both headed “%(header)s”; rename "
                              "one of them.") % {"a": named[header], "b": number,
                                                 "header": header})
        named.setdefault(header, number)
    for source, explicit in ((saved or {}, False), (overrides or {}, True)):
        for header, field in source.items():
            actual = header if header in mapping else by_key.get(header_key(header))
            if actual is None:
                if explicit:  # a saved mapping may name columns this file does not have
                    problems.append(_("The file has no column “%(header)s” to map.")
                                    % {"header": header})
                continue
            if field and field not in fields:
                problems.append(_("Column “%(header)s” is mapped to “%(field)s”, which is not a "
                                  "field of this import.") % {"header": header, "field": field})
                continue
            mapping[actual] = field or None
    columns: dict[str, str] = {}
    seen: dict[str, str] = {}
    for header, field in mapping.items():
        if not field:
            continue
        if field in seen:
            problems.append(_("Columns “%(a)s” and “%(b)s” both map to %(field)s; map one of "
                              "them to another field or ignore it.")
                            % {"a": seen[field], "b": header, "field": field_label(kind, field)})
            continue
        seen[field] = header
        columns[header] = field
    for field in REQUIRED[kind]:
        if field not in seen:
            problems.append(_("No column for the required field %(field)s (%(name)s).")
                            % {"field": field_label(kind, field), "name": field})
    ignored = [h for h in headers if h not in columns]
    return ColumnMapping(columns=columns, ignored=ignored, problems=problems)


def load_mapping(kind: str, name: str) -> dict[str, str]:
    try:
        return dict(ImportMapping.objects.get(kind=kind, name=name).mapping)
    except ImportMapping.DoesNotExist:
        raise LookupError(_("There is no saved %(kind)s mapping named “%(name)s”.")
                          % {"kind": kind, "name": name}) from None
