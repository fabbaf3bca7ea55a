"""The closed vocabularies of a work order (domain.md §3), in English and Chinese.

Each value is stored in English; a user may type either the English value or
the Chinese label (`投诉`, `满意`, `实际解决` ...).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from hotline.domain.errors import InvalidInput


class Vocabulary(StrEnum):
    """A string enum whose members also answer to their Chinese labels."""

    label: str

    def __new__(cls, value: str, label: str) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        if isinstance(value, str):
            text = value.strip()
            for member in cls:
                if text.lower() == member.value or text == member.label:
                    return member
        return None

    @property
    def code(self) -> int:
        """A small stable number for column stores: the member's position (append only)."""
        return list(type(self)).index(self)

    @classmethod
    def parse(cls, text: str) -> Self:
        """The member named by `text` (English or Chinese), or a one-line refusal."""
        member = cls._missing_(text)
        if member is None:
            choices = ", ".join(f"{m.value} ({m.label})" for m in cls)
            raise InvalidInput(f"unknown {cls.__name__.lower()} {text!r}; use one of: {choices}")
        return member


class Channel(Vocabulary):
    """The hotline the order came from (来源渠道)."""

    HOTLINE_12345 = "12345", "12345市民服务热线"
    HOTLINE_12315 = "12315", "12315市场监管热线"


class Kind(Vocabulary):
    """Kind of order (工单类型)."""

    COMPLAINT = "complaint", "投诉"
    REPORT = "report", "举报"
    CONSULTATION = "consultation", "咨询"
    HELP = "help", "求助"
    SUGGESTION = "suggestion", "建议"
    REVISIT_REVIEW = "revisit_review", "回访复核单"


class ClosingResult(Vocabulary):
    """Handling result entered at close (办理结果)."""

    RESOLVED = "resolved", "实际解决"
    EXPLAINED = "explained", "解释说明"
    UNRESOLVED = "unresolved", "未解决"
    UNSUBSTANTIATED = "unsubstantiated", "不属实"


class Rating(Vocabulary):
    """The citizen's satisfaction (满意度测评)."""

    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    AVERAGE = "average", "一般"
    DISSATISFIED = "dissatisfied", "不满意"


class Evaluation(Vocabulary):
    """The citizen's overall evaluation at revisit (综合评价)."""

    EXCELLENT = "excellent", "优"
    GOOD = "good", "良"
    FAIR = "fair", "中"
    POOR = "poor", "差"


class ContactMethod(Vocabulary):
    """How the unit reached the citizen (联系方式)."""

    PHONE = "phone", "电话"
    SMS = "sms", "短信"
    VISIT = "visit", "上门"
    IN_PERSON = "in_person", "当面"
    OTHER = "other", "其他"


class DeclineReason(Vocabulary):
    """Why a 12315 complaint is not accepted (不予受理): SAMR Order No. 20, art. 16."""

    NOT_OUR_DUTY = "not_our_duty", "不属于市场监督管理部门职责"
    BEFORE_COURT = "before_court", "法院或仲裁机构已受理"
    HANDLED_BEFORE = "handled_before", "已受理或处理过同一争议"
    NOT_CONSUMPTION = "not_consumption", "非生活消费或无消费争议"
    TIME_BARRED = "time_barred", "超过三年"
    NO_CLEAR_CLAIM = "no_clear_claim", "未提供规定材料或无明确诉求"
    OTHER = "other", "法律法规规章规定的其他情形"


class MediationOutcome(Vocabulary):
    """How mediation of an accepted 12315 complaint ended (调解终结)."""

    AGREEMENT = "agreement", "达成调解协议"
    TERMINATED = "terminated", "终止调解"


class Decision(Vocabulary):
    """A 12315 decision the complainant or reporter is told of (告知), by its event's name."""

    ACCEPTED = "accepted", "受理"
    DECLINED = "declined", "不予受理"
    MEDIATION_ENDED = "mediation_ended", "调解终结"
    CASE_DECIDED = "case_decided", "立案决定"
