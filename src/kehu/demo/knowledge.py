"""The demo firm's knowledge base: solutions its service staff wrote down, some in Chinese
and some in English (the firm serves customers in both), about what its customers meet —
discs that skip, a box set short of a disc, hum after an audio installation, a receipt
printer that jams, invoices with the wrong title. Written through the service, so each
article is searchable at once; deterministic."""

from __future__ import annotations

from kehu.accounts.models import User
from kehu.service.knowledge import services as knowledge

# title, problem, cause, solution, tags — and who wrote it
ARTICLES = [
    ("zh-hans", "service1", "门店小票打印机卡纸",
     "安装音响系统后，门店收银台的小票打印机频繁卡纸，打印到一半停止，指示灯闪烁红色。",
     "使用了过厚的热敏纸卷，或纸卷装反；切刀附近积有纸屑。",
     "1. 关机后打开上盖，取出卡住的纸。\n2. 清理切刀和出纸口的纸屑。\n3. 换用 57 mm、厚度 55–60 μm "
     "的热敏纸，热敏面朝向打印头装入。\n4. 开机打印自检页确认。",
     "打印机, 门店, 硬件"),
    ("zh-hans", "service1", "CD 播放时跳音",
     "客户反映新买的 CD 在车载或家用播放器上跳音、卡顿，个别曲目无法读取。",
     "盘面有指纹或划痕；也可能是播放器激光头老化，读不了压制较深的盘。",
     "先用软布从中心向外擦拭盘面，再试播。其他播放器上正常则建议清洁激光头；"
     "所有播放器都跳音的，按质量问题在七天内免费换货。",
     "CD, 退换货"),
    ("zh-hans", "manager1", "精选套装缺少光盘",
     "客户打开精选套装 CD Box set，发现少了一张光盘或两张是同一张。",
     "仓库分拣时套装内盘序核对遗漏。",
     "核对订单号和套装批次后，直接补寄缺少的光盘，运费由我方承担；同时登记批次，"
     "通知仓库抽查同批次库存。",
     "CD, 仓储, 退换货"),
    ("zh-hans", "service1", "音响安装后有电流声",
     "音响安装服务完成后，功放和音箱在小音量时有明显的嗡嗡电流声。",
     "功放与调音台不共地形成地环路；信号线与电源线并行走线受到干扰。",
     "将所有设备接到同一个电源排插上；信号线与电源线分开走线，交叉时垂直交叉；"
     "仍有噪声时在信号链中加装隔离变压器。",
     "音响安装, 硬件"),
    ("zh-hans", "manager1", "发票抬头开错",
     "企业客户收到的增值税发票抬头或税号与公司名称不符，无法报销入账。",
     "下单时客户资料中的开票信息未更新。",
     "当月发票直接作废重开；跨月的开具红字发票后重开。重开前在客户卡片上核对并更新开票信息。",
     "发票, 财务"),
    ("zh-hans", "service1", "订单超过承诺时间未送达",
     "客户投诉订单超过承诺的三个工作日仍未收到，物流信息长时间不更新。",
     "快递中转站滞留，或地址不完整导致无法派送。",
     "查询快递单号并联系快递公司催件；地址有误的与客户确认后改派；"
     "超过五个工作日仍未送达的，重新发货并向客户致歉。",
     "物流, 投诉"),
    ("en", "service1", "Bluetooth speaker pairs but plays no sound",
     "After an audio installation the customer's phone pairs with the speaker system, but "
     "no sound comes out.",
     "The amplifier's input is still set to the wired line-in, or the phone sends sound to "
     "another paired device.",
     "Switch the amplifier's input to Bluetooth; on the phone, forget the other audio "
     "devices and pair again; raise the media volume (not the ringer volume).",
     "audio installation, Bluetooth"),
    ("en", "service1", "Disc skips or is not recognised",
     "A customer's new CD skips on some tracks or the player says \"no disc\".",
     "Fingerprints or scratches on the disc, or a worn laser in an old player.",
     "Wipe the disc from the centre outwards with a soft cloth and try again. If it plays "
     "on another player, suggest cleaning the laser; if it skips everywhere, exchange it "
     "free of charge within seven days.",
     "CD, returns"),
    ("en", "manager1", "Refund for an order paid twice",
     "The customer was charged twice for one order.",
     "The payment page was submitted twice while the bank confirmed the first payment.",
     "Check both payments in the payment report, refund the second one to the original "
     "payment method the same day, and tell the customer that the bank takes 3–5 working "
     "days to show it.",
     "payments, refunds"),
    ("en", "service1", "Receipt printer jams after installation",
     "The shop's receipt printer jams half-way through a receipt and its light blinks red.",
     "Paper rolls that are too thick, a roll put in the wrong way round, or paper dust at "
     "the cutter.",
     "Switch off, open the cover and take out the jammed paper; clean the cutter; use "
     "57 mm thermal rolls of 55–60 μm with the coated side towards the print head; print a "
     "self-test page.",
     "printer, shops, hardware"),
]


def load(users: dict[str, User]) -> int:
    """Write the demo's articles; returns how many."""
    for language, writer, title, problem, cause, solution, tags in ARTICLES:
        knowledge.create_article(users[writer], {
            "title": title, "problem": problem, "cause": cause, "solution": solution,
            "language": language}, tags=tags, via="cli")
    return len(ARTICLES)
