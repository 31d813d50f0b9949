"""The demo's words in its two languages: what the firm's people wrote on cards, tasks and
activities. Each list has the same length in both languages, so that one seed gives the
same firm whichever language it is loaded in."""

from __future__ import annotations

from kehu.sales.models import ActivityKind as A
from kehu.tasks.models import TaskKind as K
from kehu.tasks.models import TaskPriority as P

LANGUAGES = ("zh-hans", "en")

ZH = {
    "load_reason": "演示数据",
    "churned": "十二个月内没有购买",
    "loyal": "经常购买（8 个以上购买日）",
    "repeat": "已在多个日子购买",
    "first": "目前仅购买一次",
    "lead": "展会线索",
    "no_match": "与我们的产品不匹配",
    "forms": ["有限责任公司", "股份有限公司", "个人独资企业", "事业单位"],
    "terms": ["款到发货", "月结30天", "月结60天", "预付30%"],
    "areas": ["本市", "本省", "华东地区", "华北地区", "全国"],
    "styles": ["稳健", "进取", "保守", "灵活"],
    "reputations": ["良好", "一般", "优秀"],
    "personalities": ["务实谨慎", "果断直爽", "注重细节"],
    "interests": ["高尔夫", "古典音乐", "茶道", "摄影", "钓鱼", "书法", "爵士乐", "马拉松",
                  "围棋"],
    "incident": "去年曾逾期付款一次，已结清。",
    "mail": "mail.example.cn",
    "corp": "corp.example.cn",
    # (kind, subject, body): calls and e-mails cost little, visits and meetings are the
    # relationship investment, notes record service.
    "activities": [
        (A.CALL, "回访：确认订单到货情况", "客户表示包装完好，对发货速度满意。"),
        (A.CALL, "电话沟通新品目录", "介绍了本季新品，客户希望收到纸质目录。"),
        (A.CALL, "催收逾期货款", "客户承诺本周五前付清，已在系统中备注。"),
        (A.CALL, "售后电话：CD 划伤换货", "已安排换货，客户接受，顺便推荐了爵士乐新品。"),
        (A.EMAIL, "发送报价单", "已发送最新报价单及促销政策。"),
        (A.EMAIL, "寄送电子版对账单", "本月对账单已发出，请客户核对后回签。"),
        (A.EMAIL, "节日促销通知", "告知国庆期间精选套装八五折。"),
        (A.VISIT, "上门拜访，了解采购计划", "客户计划下季度增加采购，关注价格与账期。"),
        (A.VISIT, "上门安装调试音响设备", "安装完成，客户对音质满意，约定下月回访。"),
        (A.VISIT, "拜访门店，检查陈列", "陈列位置较偏，与店长商定调整到入口处。"),
        (A.MEETING, "年度合作洽谈", "双方讨论了明年的合作框架与返利政策。"),
        (A.MEETING, "季度业务回顾", "回顾本季度销量，客户希望增加古典音乐品类。"),
        (A.NOTE, "客户反馈", "客户建议增加古典音乐品类。"),
        (A.NOTE, "服务记录：退货处理", "两张 CD 包装破损，已办理退货并补发。"),
        (A.NOTE, "服务记录：发票重开", "客户抬头有误，已重开发票并快递寄出。"),
    ],
    "visit_done": ("上门拜访，了解采购计划", "客户计划下季度增加采购。"),
    # Work on each demo user's workbench: (days from today, kind, priority, title).
    # Negative days are overdue, 0 is due today; visits fall in this week.
    "work": {
        "sales": [(-3, K.CALL, P.HIGH, "回访：确认上月订单的售后问题"),
                  (-1, K.EMAIL, P.NORMAL, "发送新季度报价单"),
                  (0, K.CALL, P.HIGH, "电话确认本周拜访时间"),
                  (0, K.TODO, P.NORMAL, "准备合同续签材料"),
                  (2, K.VISIT, P.NORMAL, "上门拜访，介绍新品目录"),
                  (4, K.VISIT, P.HIGH, "拜访采购负责人，洽谈年度框架协议"),
                  (9, K.MEETING, P.LOW, "季度业务回顾会议")],
        "manager": [(-2, K.TODO, P.HIGH, "审批大客户的账期申请"),
                    (0, K.CALL, P.NORMAL, "与重点客户负责人通话"),
                    (3, K.VISIT, P.NORMAL, "陪同销售拜访重点客户")],
        "other": [(-1, K.TODO, P.NORMAL, "核对客户资料中的联系方式"),
                  (0, K.CALL, P.NORMAL, "回访客户满意度"),
                  (5, K.TODO, P.LOW, "整理本月客户反馈")],
    },
    # Tasks closed in the last days: (days ago, kind, title, done?, note).
    "closed": [(1, K.CALL, "电话回访新客户", True, "客户对首单满意，已介绍第二单优惠。"),
               (2, K.EMAIL, "发送对账单", True, "已发送，客户已回签。"),
               (3, K.VISIT, "拜访客户仓库", False, "客户临时出差，改为下月拜访。")],
    "loan_ask": "客户来电询问订单，需查看联系人",
    "loan_note": "只读，仅供处理此订单",
    "loan_other": "该客户的上海分公司想与我们合作",
    "referral": "老客户介绍",
    "welcome": "%(date)s 首次购买：首购客户的跟进方案",
    "statement": "回访时客户所说",
    # Locked states: (state, reason).
    "locks": [("loyal", "集团战略合作伙伴，合同约定三年独家供货"),
              ("repeat", "正在谈判年度框架协议，暂不调整状态"),
              ("non_customer", "客户已注销营业执照"),
              ("churned", "客户书面通知终止合作"),
              ("target", "总部指定的重点开发对象")],
}

EN = {
    "load_reason": "Demo data",
    "churned": "No purchase in twelve months",
    "loyal": "Buys often (8 or more purchase days)",
    "repeat": "Bought on several days",
    "first": "One purchase so far",
    "lead": "Trade fair lead",
    "no_match": "Our products do not fit",
    "forms": ["Limited liability company", "Joint-stock company", "Sole proprietorship",
              "Public institution"],
    "terms": ["Cash before delivery", "30 days net", "60 days net", "30% prepaid"],
    "areas": ["This city", "This province", "East China", "North China", "Nationwide"],
    "styles": ["Steady", "Ambitious", "Cautious", "Flexible"],
    "reputations": ["Good", "Average", "Excellent"],
    "personalities": ["Practical and careful", "Decisive and direct", "Eye for detail"],
    "interests": ["Golf", "Classical music", "Tea", "Photography", "Fishing", "Calligraphy",
                  "Jazz", "Marathon", "Go"],
    "incident": "Paid late once last year; settled.",
    "mail": "mail.example.com",
    "corp": "corp.example.com",
    "activities": [
        (A.CALL, "Follow-up: did the order arrive?", "Packaging intact, happy with delivery."),
        (A.CALL, "Call about the new catalogue", "Presented this season's releases; wants a "
                 "printed catalogue."),
        (A.CALL, "Overdue invoice reminder", "Promised to pay by Friday; noted."),
        (A.CALL, "After-sales call: scratched CD replaced", "Replacement sent; recommended "
                 "the new jazz titles."),
        (A.EMAIL, "Quotation sent", "Sent the latest price list and promotions."),
        (A.EMAIL, "Monthly statement sent", "Statement sent for checking and signature."),
        (A.EMAIL, "Holiday promotion", "Box sets 15% off over the holiday."),
        (A.VISIT, "Visit: purchasing plans", "Plans to buy more next quarter; asks about "
                  "prices and payment terms."),
        (A.VISIT, "On-site audio installation", "Installed; pleased with the sound; "
                  "follow-up visit next month."),
        (A.VISIT, "Store visit: shelf display", "Display was out of the way; agreed with "
                  "the manager to move it to the entrance."),
        (A.MEETING, "Annual partnership talks", "Discussed next year's framework and "
                    "rebates."),
        (A.MEETING, "Quarterly business review", "Reviewed the quarter; wants more "
                    "classical titles."),
        (A.NOTE, "Customer feedback", "Suggests a wider classical range."),
        (A.NOTE, "Service: return handled", "Two CDs arrived damaged; returned and "
                 "replaced."),
        (A.NOTE, "Service: invoice reissued", "Wrong company name on the invoice; "
                 "reissued and posted."),
    ],
    "visit_done": ("Visit: purchasing plans", "Plans to buy more next quarter."),
    "work": {
        "sales": [(-3, K.CALL, P.HIGH, "Follow up last month's after-sales issue"),
                  (-1, K.EMAIL, P.NORMAL, "Send the new quarter's price list"),
                  (0, K.CALL, P.HIGH, "Call to confirm this week's visit"),
                  (0, K.TODO, P.NORMAL, "Prepare the contract renewal"),
                  (2, K.VISIT, P.NORMAL, "Visit: present the new catalogue"),
                  (4, K.VISIT, P.HIGH, "Visit the buyer: annual framework agreement"),
                  (9, K.MEETING, P.LOW, "Quarterly business review")],
        "manager": [(-2, K.TODO, P.HIGH, "Approve a key account's payment terms"),
                    (0, K.CALL, P.NORMAL, "Call a key account's director"),
                    (3, K.VISIT, P.NORMAL, "Join a salesperson's visit to a key account")],
        "other": [(-1, K.TODO, P.NORMAL, "Check the contact details on file"),
                  (0, K.CALL, P.NORMAL, "Satisfaction call"),
                  (5, K.TODO, P.LOW, "Summarise this month's customer feedback")],
    },
    "closed": [(1, K.CALL, "Welcome call to a new customer", True,
                "Happy with the first order; told them about the second-order offer."),
               (2, K.EMAIL, "Send the statement", True, "Sent and signed."),
               (3, K.VISIT, "Visit the customer's warehouse", False,
                "Customer away on business; visit moved to next month.")],
    "loan_ask": "Customer called about an order; need the contacts",
    "loan_note": "Read only, for this order",
    "loan_other": "Their Shanghai branch wants to work with us",
    "referral": "Introduced by an existing customer",
    "welcome": "First purchase on %(date)s: the first-purchase playbook",
    "statement": "Said on a follow-up call",
    "locks": [("loyal", "Strategic partner: three-year exclusive supply contract"),
              ("repeat", "Negotiating the annual framework; keep the state for now"),
              ("non_customer", "Business licence cancelled"),
              ("churned", "Ended the relationship in writing"),
              ("target", "Key prospect named by head office")],
}

TEXT = {"zh-hans": ZH, "en": EN}
