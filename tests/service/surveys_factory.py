"""A survey of every measure, and a customer invited to it, for the survey tests and the
project's generated checks."""

from __future__ import annotations

from kehu.service.surveys import services
from kehu.service.surveys.models import Measure, Purpose

QUESTIONS = [
    {"measure": Measure.CSAT, "text_en": "How satisfied are you with us overall?",
     "text_zh": "总体而言，您对我们满意吗？"},
    {"measure": Measure.NPS, "text_en": "How likely are you to recommend us to a friend?",
     "text_zh": "您向朋友推荐我们的可能性有多大？"},
    {"measure": Measure.MATERIAL, "text_en": "The product itself",
     "text_zh": "产品本身"},
    {"measure": Measure.SPIRITUAL, "text_en": "Our service, look and brand",
     "text_zh": "我们的服务、形象和品牌"},
    {"measure": Measure.SOCIAL, "text_en": "Our values and responsibility",
     "text_zh": "我们的价值观和社会责任"},
    {"measure": Measure.BUY_AGAIN, "text_en": "How likely are you to buy from us again?",
     "text_zh": "您再次向我们购买的可能性有多大？"},
    {"measure": Measure.COMMENT, "text_en": "Anything else you would like to tell us?",
     "text_zh": "您还有什么想告诉我们的吗？", "required": False},
]


def make_survey(admin, purpose: str = Purpose.BY_HAND, name: str = "After-sales survey",
                **extra):
    return services.create_survey(admin, {"name_en": name, "name_zh": "售后满意度调查",
                                          "intro_en": "Two minutes, please.",
                                          "intro_zh": "请花两分钟。", "purpose": purpose,
                                          **extra}, QUESTIONS)


def answers_for(survey, **scores) -> dict[str, str]:
    """POST data answering every question: `scores` by measure (default: all good)."""
    good = {Measure.CSAT: 5, Measure.NPS: 10, Measure.MATERIAL: 5, Measure.SPIRITUAL: 4,
            Measure.SOCIAL: 4, Measure.BUY_AGAIN: 9, Measure.COMMENT: "很好"}
    good.update(scores)
    return {f"q{q.pk}": str(good[q.measure]) for q in survey.questions.all()}
