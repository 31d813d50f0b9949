"""Made-up names, places and firms for the demo, drawn from a seeded random generator so
that every installation shows the same demo firm."""

from __future__ import annotations

import random
from dataclasses import dataclass

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "晓东",
    "志强",
    "海燕",
    "欣怡",
    "子涵",
    "浩然",
    "雨桐",
    "思远",
    "嘉怡",
    "宇航",
    "梓萱",
    "一鸣",
    "文博",
    "晨曦",
    "佳琪",
    "俊杰",
    "婷婷",
]
BRANDS = [
    "恒信",
    "华联",
    "金桥",
    "宏达",
    "鑫源",
    "天成",
    "瑞丰",
    "嘉禾",
    "东方",
    "利民",
    "永安",
    "新华",
    "博远",
    "锦程",
    "汇通",
    "盛世",
    "和谐",
    "长城",
    "海纳",
    "明珠",
    "远航",
    "正泰",
    "安泰",
    "隆昌",
    "福瑞",
    "德润",
    "泰和",
    "启明",
    "星光",
    "中信",
]
TRADES = [  # (Chinese trade word, English trade word, industry shown on the card)
    ("电子", "Electronics", "电子产品"),
    ("贸易", "Trading", "批发零售"),
    ("文化传媒", "Media", "文化传媒"),
    ("音响", "Audio", "音响设备"),
    ("科技", "Technology", "信息技术"),
    ("商贸", "Commerce", "批发零售"),
    ("教育", "Education", "教育培训"),
    ("酒店管理", "Hospitality", "酒店餐饮"),
    ("百货", "Department Store", "零售"),
    ("娱乐", "Entertainment", "文化娱乐"),
]
SUFFIXES = ["有限公司", "有限责任公司", "股份有限公司", "商行"]
EN_FIRST = [
    "James",
    "Mary",
    "John",
    "Linda",
    "David",
    "Susan",
    "Michael",
    "Karen",
    "Peter",
    "Emma",
    "Oliver",
    "Sophie",
    "Daniel",
    "Grace",
    "Thomas",
    "Alice",
    "Henry",
    "Chloe",
    "Lucas",
    "Mia",
    "Noah",
    "Ava",
    "Ethan",
    "Zoe",
    "Samuel",
    "Ruby",
    "Adam",
    "Clara",
    "Leo",
    "Ivy",
    "Owen",
    "Nora",
    "Felix",
    "Hazel",
    "Isaac",
    "Iris",
]
EN_LAST = [
    "Smith",
    "Brown",
    "Wilson",
    "Taylor",
    "Clark",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Wood",
    "Turner",
    "Cooper",
    "Morgan",
    "Bennett",
    "Hughes",
    "Parker",
    "Evans",
    "Foster",
    "Hayes",
    "Reed",
    "Ward",
    "Brooks",
    "Price",
    "Gray",
    "Fisher",
    "Hunt",
    "Palmer",
    "Dixon",
    "Lawson",
    "Shaw",
    "Fox",
    "Kerr",
    "Lowe",
    "Nash",
]
EN_FIRM = [
    "Harbor",
    "Summit",
    "Pacific",
    "Golden",
    "Bridge",
    "Silverline",
    "Northwind",
    "Bluebird",
    "Evergreen",
    "Redwood",
    "Lotus",
    "Jade",
]
JOB_TITLES = [
    ("总经理", "General manager"),
    ("采购经理", "Purchasing manager"),
    ("财务总监", "Finance director"),
    ("技术主管", "Head of engineering"),
    ("行政主管", "Office manager"),
    ("店长", "Store manager"),
]
INTERESTS = ["高尔夫", "古典音乐", "茶道", "摄影", "钓鱼", "书法", "爵士乐", "马拉松", "围棋"]

# (province, city, team): East 华东 and North 华北, the demo firm's two sales teams.
PLACES = [
    ("上海", "上海", "east"),
    ("江苏", "南京", "east"),
    ("江苏", "苏州", "east"),
    ("浙江", "杭州", "east"),
    ("浙江", "宁波", "east"),
    ("安徽", "合肥", "east"),
    ("山东", "青岛", "east"),
    ("福建", "厦门", "east"),
    ("北京", "北京", "north"),
    ("天津", "天津", "north"),
    ("河北", "石家庄", "north"),
    ("山西", "太原", "north"),
    ("内蒙古", "呼和浩特", "north"),
    ("河北", "唐山", "north"),
]
CITY_EN = {
    "上海": "Shanghai",
    "南京": "Nanjing",
    "苏州": "Suzhou",
    "杭州": "Hangzhou",
    "宁波": "Ningbo",
    "合肥": "Hefei",
    "青岛": "Qingdao",
    "厦门": "Xiamen",
    "北京": "Beijing",
    "天津": "Tianjin",
    "石家庄": "Shijiazhuang",
    "太原": "Taiyuan",
    "呼和浩特": "Hohhot",
    "唐山": "Tangshan",
}
STREETS = ["人民路", "中山路", "解放路", "建设路", "和平路", "长江路", "延安路", "南京路"]
# Area codes for landlines, so that phone numbers look like the city they belong to.
AREA_CODES = {
    "上海": "021",
    "南京": "025",
    "苏州": "0512",
    "杭州": "0571",
    "宁波": "0574",
    "合肥": "0551",
    "青岛": "0532",
    "厦门": "0592",
    "北京": "010",
    "天津": "022",
    "石家庄": "0311",
    "太原": "0351",
    "呼和浩特": "0471",
    "唐山": "0315",
}


@dataclass
class Person:
    name: str
    email_local: str


def chinese_person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def english_person(rng: random.Random) -> Person:
    first, last = rng.choice(EN_FIRST), rng.choice(EN_LAST)
    return Person(f"{first} {last}", f"{first}.{last}".lower())


def chinese_company(rng: random.Random, city: str) -> tuple[str, str]:
    """A company name and its industry, e.g. ("杭州恒信电子有限公司", "电子产品")."""
    trade, _, industry = rng.choice(TRADES)
    prefix = city if rng.random() < 0.7 else ""
    return f"{prefix}{rng.choice(BRANDS)}{trade}{rng.choice(SUFFIXES)}", industry


def english_company(rng: random.Random) -> tuple[str, str]:
    _, trade, industry = rng.choice(TRADES)
    return f"{rng.choice(EN_FIRM)} {trade} Co., Ltd.", industry


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


def landline(rng: random.Random, city: str) -> str:
    return f"{AREA_CODES[city]}-{rng.randrange(10**7, 10**8)}"


def address(rng: random.Random, city: str) -> str:
    return f"{city}市{rng.choice(STREETS)}{rng.randrange(1, 999)}号"


# The English demo: the same firm, its customers named in English.
PROVINCE_EN = {
    "上海": "Shanghai",
    "江苏": "Jiangsu",
    "浙江": "Zhejiang",
    "安徽": "Anhui",
    "山东": "Shandong",
    "福建": "Fujian",
    "北京": "Beijing",
    "天津": "Tianjin",
    "河北": "Hebei",
    "山西": "Shanxi",
    "内蒙古": "Inner Mongolia",
}
STREETS_EN = ["Renmin Road", "Zhongshan Road", "Jiefang Road", "Jianshe Road", "Heping Road",
              "Changjiang Road", "Yan'an Road", "Nanjing Road"]
EN_SUFFIXES = ["Co., Ltd.", "Ltd.", "Group", "& Partners"]


def person(rng: random.Random, language: str) -> str:
    return chinese_person(rng) if language == "zh-hans" else english_person(rng).name


def company(rng: random.Random, city: str, language: str) -> tuple[str, str]:
    """A company name in the demo's language and its industry."""
    if language == "zh-hans":
        return chinese_company(rng, city)
    _, trade, industry = rng.choice(TRADES)
    roll = rng.random()
    if roll < 0.5:
        firm = rng.choice(EN_FIRM)
    elif roll < 0.8:
        firm = f"{rng.choice(EN_LAST)} & {rng.choice(EN_LAST)}"
    else:
        firm = f"{CITY_EN[city]} {rng.choice(EN_FIRM)}"
    return f"{firm} {trade} {rng.choice(EN_SUFFIXES)}", industry


def place(province: str, city: str, language: str) -> tuple[str, str]:
    if language == "zh-hans":
        return province, city
    return PROVINCE_EN[province], CITY_EN[city]


def localised_address(rng: random.Random, city: str, language: str) -> str:
    if language == "zh-hans":
        return address(rng, city)
    return f"{rng.randrange(1, 999)} {rng.choice(STREETS_EN)}, {CITY_EN[city]}"
