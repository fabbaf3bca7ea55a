#!/usr/bin/env python3
"""Generate a realistic assessment year of work orders as JSON Lines (domain.md §9), or as the
platform's export of it (one row per order, .xlsx or GB18030 CSV).

For tests, the demo and benchmarks::

    scripts/generate_year.py [--year 2019] [--orders 240409] [--seed 1] [--output FILE|-]
                             [--format jsonl|xlsx|csv] [--facts]

The assessment year Y runs Y-1-11-01 … Y-10-31 (Asia/Shanghai). The lines are every
event of every order received in that year, sorted by `at` as a platform export taken
at the end of the year would be: events that would happen after 31 October are not
in it, so orders received in the last days of the year are still open (or closed
but not yet rated). The same --year/--orders/--seed give the same bytes. Only the
JSON Lines go to stdout; one summary line (and warnings, if any) go to stderr.

`--orders` is the number of orders *received* (`received` lines), returned ones
included. review-2019's 240,409 is the volume "不含退单"; with ~7% returns of which ~12%
are rejected, the generated year's volume is about 6% below --orders.

Units and volumes
-----------------
The 66 units come from the package's registry (`rubrics/units.toml`). Orders are
spread over them in proportion to results-2019's volume points (受理数量, 附件1–3), which
are 10 × unit volume ÷ group volume, so within a group a unit's share of the
orders is its points ÷ 10 (allocated exactly, largest remainder, at least one order
per unit). The sources do not publish the group totals; this script takes:

- municipal 66,588: review-2019 says 4,534 orders went to 市药监局, whose volume points
  are 0.6809, so the group's volume is 4,534 ÷ 0.06809 ≈ 66,588. (市知识产权局's 30
  orders at 0.0137 points would give ~21,900; 30 is too small a number for its
  rounded points to say much, 4,534 is not.)
- consumer_council 23,121: review-2019's "转派市消保委 23,121 件".
- district 150,700: the rest of 240,409, i.e. review-2019's 148,974 complaints and
  reports sent to the district bureaus plus ~1,700 of the 63,750 consultations
  (the rest of which went to the municipal divisions).

These three are scaled to --orders. 食品生产安全监督管理处 (0.0000 points, no on-time
or resolution score) gets a single order, returned out of jurisdiction and not
rejected, so its volume is 0 as in the source.

Ratings
-------
The counted (not excluded) ratings are exactly review-2019's 7,984 satisfied / 1,138
basically satisfied / 526 average / 1,211 dissatisfied scaled to --orders
(score 84.81); about 2% more ratings are `excluded` (客观件, mostly dissatisfied).
Units marked "—" (no satisfaction measured) in results-2019 get no ratings. The rated
orders of a unit are proportional to its orders, and each unit's mix of ratings is
tilted towards its own 2019 satisfaction points, then fitted (iterative proportional
fitting) so that the system-wide counts stay exact. The source's unit scores weighted
by volume average ~89.5, not 84.81, so every unit comes out a few points below its
2019 score, in about the same order.

Everything else (kinds, channels, returns, contact and close days on the official
working-day calendar, extensions, revisits, supervision) follows the rates in the
brief of this script; see the constants below.

Formats and facts
-----------------
`--format xlsx|csv` writes the same year as the platform's export (工单导出): the default
layout's headers (`hotline.service.order_export.LAYOUT`) under two title rows, one row
per order in the order received, a 合计 row at the bottom, and the mess of real exports
(seeded): times as "2019-03-05 14:20", "2019/3/5 14:20:00", "2019年3月5日14时20分", Excel
serial numbers or date cells; 是/否; full-width spaces around some units and summaries.
A row keeps an order's first return and the latest of its other repeated events.
`--facts` adds the `received` event's category (3 levels), district, street, address,
entity and 统一社会信用代码 (with its GB 32100-2015 check character). They come from random
sources of their own, so without `--facts` (and for every other field with it) the
JSON Lines are byte for byte as before.

Stragglers
----------
Orders received in the year's last weeks are still open at its end, and a store of several
generated years would keep them open for ever, though real ones close within weeks.
`--close-stragglers` writes, after the year's lines (the same bytes as without it), those of
its orders after 31 October (contacts, extensions, returns, closes; no ratings, revisits or
supervisions after it), as a store kept into the next year records them.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import sys
import time
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

try:
    from hotline.adapters.official_calendar import official_schedules
    from hotline.adapters.rubric_files import rubrics_dir
    from hotline.adapters.unit_file import load_unit_registry
    from hotline.cli.table_file import write_csv, write_xlsx
    from hotline.domain.calendar import WorkingCalendar
    from hotline.domain.vocabulary import ClosingResult, ContactMethod, Evaluation, Kind, Rating
    from hotline.service.order_export import LAYOUT, OTHER_RETURN, OUT_OF_JURISDICTION, yes_no
    from year_calibration import Plan, calibrate, largest_remainder, tilted
except ModuleNotFoundError:  # a python without hotline: run again with the repo's .venv
    _VENV = Path(__file__).resolve().parents[1] / ".venv"
    if (_VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != _VENV.resolve():
        os.execv(_VENV / "bin" / "python", [str(_VENV / "bin" / "python"), *sys.argv])
    raise

SHANGHAI = ZoneInfo("Asia/Shanghai")

# --- seed data -------------------------------------------------------------------------

# results-2019 (沪市监办发〔2020〕336号, 附件1–3), assessment year 2019: each unit's volume
# points (受理数量, 10 × unit volume ÷ group volume) and satisfaction points (满意度,
# 35 × score ÷ 100; None where the source shows "—"/"/", no satisfaction measured).
RESULTS_2019_UNITS: tuple[tuple[str, float, float | None], ...] = (
    # 附件1: 各区市场监管局、机场分局
    ("闵行区市场监管局", 1.6006, 33.51),
    ("松江区市场监管局", 0.4606, 33.57),
    ("嘉定区市场监管局", 0.6395, 33.01),
    ("青浦区市场监管局", 0.3017, 33.34),
    ("崇明区市场监管局", 0.1156, 33.25),
    ("普陀区市场监管局", 0.5163, 32.71),
    ("静安区市场监管局", 0.5685, 32.34),
    ("黄浦区市场监管局", 0.5362, 31.88),
    ("杨浦区市场监管局", 0.5284, 31.85),
    ("奉贤区市场监管局", 0.3526, 31.96),
    ("虹口区市场监管局", 0.3208, 31.90),
    ("机场分局", 0.0051, 32.20),
    ("徐汇区市场监管局", 0.5506, 31.45),
    ("宝山区市场监管局", 0.5718, 30.21),
    ("金山区市场监管局", 0.2100, 28.71),
    ("长宁区市场监管局", 0.9954, 27.63),
    ("浦东新区市场监管局", 1.7265, 25.25),
    # 附件2: 市药监局、市知识产权局、市局各处室、执法总队、直属单位
    ("办公室", 0.0210, 29.75),
    ("法规处", 0.0110, None),
    ("登记注册处", 6.1514, 32.56),
    ("执法稽查处", 0.0005, None),
    ("信用监管管理处", 0.1817, 30.06),
    ("反垄断和价格监督检查办公室", 0.0023, None),
    ("反不正当竞争处", 0.0110, 17.50),
    ("网络交易和市场规范监督管理处", 0.0393, 34.07),
    ("广告监督管理处", 0.0347, 31.73),
    ("消费者权益保护处", 0.1265, 28.26),
    ("质量发展处", 0.0082, None),
    ("产品质量安全监督管理处", 0.0068, None),
    ("食品安全协调处", 0.0005, None),
    ("食品生产安全监督管理处", 0.0000, None),
    ("食品经营安全监督管理处", 0.0018, None),
    ("特殊食品安全监督管理处", 0.0005, None),
    ("食品安全抽检监测处", 0.0009, None),
    ("特种设备安全监察处", 0.0164, 35.0),
    ("计量处", 0.0032, None),
    ("标准技术管理处", 0.0005, None),
    ("标准创新发展处", 0.0059, 35.0),
    ("认证监督管理处", 0.0032, None),
    ("认可与检验检测监督管理处", 0.0142, None),
    ("市局档案室", 0.0388, 27.53),
    ("市局干部学校", 0.0005, None),
    ("市局投诉举报中心", 0.9439, 32.31),
    ("市消费者权益保护委员会秘书处", 0.2014, 31.89),
    ("市局信息中心", 1.4544, 29.00),
    ("市局执法总队", 0.0005, None),
    ("商标审协中心", 0.0237, 35.0),
    ("计测院", 0.0009, None),
    ("市药监局", 0.6809, 31.22),
    ("市知识产权局", 0.0137, None),
    # 附件3: 各区消保委
    ("闵行区消保委", 6.6012, 34.54),
    ("静安区消保委", 0.2022, 35.0),
    ("金山区消保委", 0.0266, 35.0),
    ("嘉定区消保委", 0.2854, 34.70),
    ("青浦区消保委", 0.3377, 34.59),
    ("普陀区消保委", 0.3429, 34.49),
    ("松江区消保委", 0.0588, 34.70),
    ("黄浦区消保委", 0.1817, 34.50),
    ("徐汇区消保委", 0.3159, 34.32),
    ("虹口区消保委", 0.2645, 34.21),
    ("长宁区消保委", 0.5572, 33.60),
    ("杨浦区消保委", 0.0880, 33.73),
    ("浦东新区消保委", 0.5407, 33.22),
    ("宝山区消保委", 0.1268, 33.54),
    ("崇明区消保委", 0.0131, 33.60),
    ("奉贤区消保委", 0.0575, 31.50),
)
# Points given to a registry unit the source does not list (a unit added later).
UNLISTED_UNIT_POINTS = 0.0005

# Group volumes chosen for 2019 (see the module docstring), scaled to --orders.
GROUP_VOLUME_2019: dict[str, int] = {
    "district": 150_700,
    "municipal": 66_588,
    "consumer_council": 23_121,
}
REVIEW_2019_ORDERS = 240_409
# review-2019: 10,859 orders sampled for satisfaction: 满意 / 基本满意 / 一般 / 不满意.
REVIEW_2019_RATINGS: dict[str, int] = {
    "satisfied": 7984,
    "basically_satisfied": 1138,
    "average": 526,
    "dissatisfied": 1211,
}
RATING_POINTS: dict[str, float] = {
    "satisfied": 100.0,
    "basically_satisfied": 80.0,
    "average": 60.0,
    "dissatisfied": 0.0,
}

# --- rates -----------------------------------------------------------------------------

P_RETURN = 0.07  # 退单
P_RETURN_OUT_OF_JURISDICTION = 0.80
P_RETURN_BY_DAY_1 = 0.85  # else on day 2–3
P_RETURN_REJECTED = 0.12  # 二次退回
P_NO_REPLY = 0.03  # closed with no_reply_requested
P_NO_REPLY_NO_CONTACT = 0.70  # of those, never contacted
P_CONTACT_NEVER = 0.003
P_CONTACT_LATE = 0.03  # on day 2–4
P_CONTACT_DAY_0 = 0.25  # of orders received on a working day early enough
P_EXTENDED = 0.04
P_EXTENDED_LATE = 0.08  # closed on or after the promised date
P_CLOSE_LATE = 0.004
P_NOT_INFORMED = 0.02
P_REVISITED = 0.10
P_REVISIT_NOT_CONTACTED = 0.05
P_REVISIT_INCONSISTENT = 0.03
P_SUPERVISED = 0.003
P_SUPERVISED_AT_FAULT = 0.30
P_EXCLUDED_RATINGS = 0.02  # share of all ratings that are excluded (客观件)
P_CITIZEN_DATA = 0.30
P_REPEAT = 0.01

RESULTS = ("resolved", "explained", "unresolved", "unsubstantiated")
RESULT_WEIGHTS = tuple(accumulate((45, 40, 5, 10)))
EVALUATIONS = ("excellent", "good", "fair", "poor")
EVALUATION_WEIGHTS = tuple(accumulate((60, 28, 8, 4)))
METHODS = ("phone", "sms", "visit", "in_person", "other")
METHOD_WEIGHTS = tuple(accumulate((86, 9, 3, 1, 1)))
EXCLUDED_RATINGS = ("dissatisfied", "average", "basically_satisfied", "satisfied")
EXCLUDED_RATING_WEIGHTS = tuple(accumulate((75, 12, 8, 5)))

KINDS = ("complaint", "report", "consultation", "help", "suggestion", "revisit_review")
KIND_WEIGHTS: dict[str, tuple[int, ...]] = {
    "district": tuple(accumulate((46, 18, 27, 4, 3, 2))),
    "municipal": tuple(accumulate((8, 4, 78, 4, 4, 2))),
    "consumer_council": tuple(accumulate((82, 0, 10, 4, 2, 2))),
}
P_12315 = {"complaint": 0.18, "report": 0.15}  # other kinds: 0.03

# Day of close (working days after receipt) for an order closed in time.
CLOSE_DAYS_13 = tuple(range(1, 14))
CLOSE_WEIGHTS_13 = tuple(accumulate((3, 5, 7, 8, 9, 10, 10, 10, 9, 9, 8, 7, 5)))
CLOSE_WEIGHTS_CONSULTATION = tuple(accumulate((30, 25, 15, 10, 7, 4, 3, 2, 1, 1, 1, 0.5, 0.5)))
CLOSE_DAYS_4 = (1, 2, 3, 4)
CLOSE_WEIGHTS_4 = tuple(accumulate((20, 35, 30, 15)))

# Relative daily arrivals: a working day, a weekend day, a day of a holiday period.
DAY_WEIGHT_WORKING = 1.0
DAY_WEIGHT_WEEKEND = 0.45
DAY_WEIGHT_HOLIDAY = 0.30
# By month, from November: 双十一 in Nov, Spring Festival in Jan/Feb, 3·15 in March.
MONTH_WEIGHT = {11: 1.12, 12: 1.0, 1: 0.95, 2: 0.88, 3: 1.10, 4: 1.0,
                5: 1.0, 6: 1.02, 7: 1.05, 8: 1.02, 9: 0.98, 10: 0.96}  # fmt: skip
# Arrivals by hour, 08:00–22:00.
HOURS = tuple(range(8, 22))
HOUR_WEIGHTS = tuple(accumulate((6, 10, 11, 10, 7, 9, 10, 10, 9, 7, 5, 4, 3, 2)))

UNIT_HOURS = (8 * 3600 + 30 * 60, 17 * 3600 + 30 * 60)  # the unit's office hours
HOTLINE_HOURS = (9 * 3600, 20 * 3600)  # the hotline's revisits and ratings, every day
RATING_CANDIDATE_DAYS = 40  # rated orders are drawn from orders received before the last 40 days
HORIZON_DAYS = 240  # days past the end of the year the calendar is looked up for

# --- text pools ------------------------------------------------------------------------

SUMMARIES: dict[str, tuple[str, ...]] = {
    "complaint": (
        "预付卡商家关门，要求退还余额",
        "网购商品质量问题，商家拒绝退货",
        "餐饮店卫生状况差，食用后身体不适",
        "美容美发店诱导办卡，要求退费",
        "教育培训机构停课，要求退还学费",
        "购买的家电存在质量问题，维修后仍无法使用",
        "超市销售过期食品",
        "商家未按约定时间交付商品",
    ),
    "report": (
        "举报无证经营餐饮",
        "举报商家虚假宣传",
        "举报非法加油点",
        "举报销售假冒注册商标商品",
        "举报价格欺诈，标价与结算价不符",
        "举报电梯未定期检验",
    ),
    "consultation": (
        "咨询企业开办“一窗通”办理流程",
        "咨询企业注销所需材料",
        "咨询小餐饮临时备案",
        "咨询企业信息公示年报",
        "咨询档案查询方式",
        "咨询特种设备作业人员资格证办理",
        "咨询产品检验检测机构资质",
        "咨询“一网通办”办事进度",
    ),
    "help": (
        "求助：经营者失联，无法协商退款",
        "求助：营业执照遗失如何补办",
        "求助：药品说明书信息查询",
        "求助：电梯困人后物业未处理",
    ),
    "suggestion": (
        "建议加强对预付卡经营的监管",
        "建议优化“一网通办”登记注册页面",
        "建议增加农贸市场的食品快检",
        "建议规范共享充电宝收费",
    ),
    "revisit_review": (
        "回访复核：市民对原工单办理结果有异议",
        "回访复核：市民反映未接到承办单位联系",
        "回访复核：办理结果与市民反映不符，请复核",
    ),
}
REPORTS: dict[str, tuple[str, ...]] = {
    "resolved": (
        "经调解，商家同意退款，市民表示认可",
        "已责令当事人整改，整改到位",
        "已为市民办理完毕",
    ),
    "explained": (
        "已电话联系市民，就相关政策作解释说明",
        "已告知市民办理流程及所需材料",
        "已告知市民可通过司法途径解决",
    ),
    "unresolved": (
        "经调解双方未达成一致，已告知市民其他救济途径",
        "当事人已失联，暂无法解决",
    ),
    "unsubstantiated": (
        "经现场检查，未发现市民反映的问题",
        "经核查，反映情况不属实",
    ),
}
RETURN_REASONS_OUT = (
    "非本单位管辖：涉事主体不在本辖区",
    "非市场监管职能：属住房和城乡建设部门职责",
    "非市场监管职能：属人力资源和社会保障部门职责",
    "非市场监管职能：属交通部门职责",
    "非本单位管辖：属市局相关处室职责",
)
RETURN_REASONS_OTHER = (
    "诉求不明确，无法联系市民核实",
    "重复派单",
    "工单信息不全，请补充涉事主体地址",
)
REJECT_REASONS = ("经核实属本单位职责，请予办理", "涉事主体在本辖区，请承办单位办理")
EXTENSION_REASONS = (
    "需抽样送检",
    "涉及多部门协调处理",
    "需现场核查并调取证据",
    "当事人暂无法联系，需进一步调查",
)
LEGAL_BASES = (
    "《市场监督管理投诉举报处理暂行办法》",
    "《“12345”市民服务热线工作管理办法》（沪府办〔2018〕62号）",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
STAFF = tuple(f"经办人{n:02d}" for n in range(1, 41))

# --- the received event's facts (--facts) ----------------------------------------------

# 一级/二级/三级分类, by kind: the platform's market-regulation categories.
CATEGORIES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "complaint": (
        ("消费维权", "预付式消费", "商家关门跑路"),
        ("消费维权", "网络购物", "退换货纠纷"),
        ("消费维权", "教育培训", "退费纠纷"),
        ("消费维权", "美容美发", "诱导办卡"),
        ("市场监管", "食品安全", "餐饮卫生"),
        ("市场监管", "食品安全", "过期食品"),
        ("市场监管", "产品质量", "家用电器"),
    ),
    "report": (
        ("市场监管", "食品安全", "无证经营"),
        ("市场监管", "广告监管", "虚假宣传"),
        ("市场监管", "知识产权", "商标侵权"),
        ("市场监管", "价格监管", "价格欺诈"),
        ("市场监管", "特种设备", "电梯安全"),
        ("市场监管", "计量监督", "加油机计量"),
    ),
    "consultation": (
        ("企业登记", "企业开办", "一窗通"),
        ("企业登记", "企业注销", "注销材料"),
        ("企业登记", "年报公示", "信息公示"),
        ("市场监管", "食品安全", "小餐饮备案"),
        ("市场监管", "特种设备", "作业人员资格"),
        ("药品监管", "药品", "说明书查询"),
    ),
}
CATEGORIES["help"] = CATEGORIES["complaint"][:2] + CATEGORIES["consultation"][:1]
CATEGORIES["suggestion"] = CATEGORIES["report"][:2] + CATEGORIES["consultation"][:1]
CATEGORIES["revisit_review"] = CATEGORIES["complaint"]

# Shanghai's 16 districts: each one's administrative division code (行政区划代码, the 3rd–8th
# characters of an entity's 统一社会信用代码) and a few of its streets and towns (街镇).
DISTRICTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "黄浦区": ("310101", ("南京东路街道", "外滩街道", "豫园街道", "打浦桥街道")),
    "徐汇区": ("310104", ("徐家汇街道", "天平路街道", "田林街道", "漕河泾街道")),
    "长宁区": ("310105", ("华阳路街道", "新华路街道", "天山路街道", "虹桥街道")),
    "静安区": ("310106", ("静安寺街道", "南京西路街道", "江宁路街道", "彭浦新村街道")),
    "普陀区": ("310107", ("长寿路街道", "曹杨新村街道", "真如镇街道", "长征镇")),
    "虹口区": ("310109", ("四川北路街道", "欧阳路街道", "曲阳路街道", "江湾镇街道")),
    "杨浦区": ("310110", ("五角场街道", "平凉路街道", "控江路街道", "新江湾城街道")),
    "闵行区": ("310112", ("江川路街道", "古美路街道", "莘庄镇", "七宝镇", "梅陇镇")),
    "宝山区": ("310113", ("友谊路街道", "吴淞街道", "大场镇", "顾村镇")),
    "嘉定区": ("310114", ("新成路街道", "真新街道", "江桥镇", "南翔镇")),
    "浦东新区": ("310115", ("陆家嘴街道", "潍坊新村街道", "花木街道", "张江镇", "川沙新镇")),
    "金山区": ("310116", ("石化街道", "朱泾镇", "枫泾镇", "亭林镇")),
    "松江区": ("310117", ("岳阳街道", "方松街道", "九亭镇", "泗泾镇")),
    "青浦区": ("310118", ("夏阳街道", "盈浦街道", "赵巷镇", "徐泾镇")),
    "奉贤区": ("310120", ("南桥镇", "奉浦街道", "西渡街道", "庄行镇")),
    "崇明区": ("310151", ("城桥镇", "堡镇", "陈家镇", "长兴镇")),
}
ROADS = (
    "沪闵路",
    "漕宝路",
    "虹梅路",
    "中山北路",
    "长宁路",
    "延安西路",
    "共和新路",
    "四平路",
    "浦东大道",
    "张杨路",
    "南京西路",
    "淮海中路",
    "曹安公路",
    "松卫北路",
)
TRADE_NAMES = (
    "鑫源",
    "佳禾",
    "恒泰",
    "宏达",
    "锦程",
    "华联",
    "众益",
    "百味",
    "美佳",
    "优品",
    "金桥",
    "新悦",
    "君越",
    "汇丰源",
    "乐享",
)
TRADES = ("餐饮管理", "商贸", "教育培训", "美容美发", "电器", "食品", "网络科技", "健身服务")
SHOPS = ("小吃店", "便利店", "水果店", "理发店", "五金店")
P_ENTITY = {"complaint": 0.85, "report": 0.90}  # other kinds: 0.10
P_ENTITY_CODE = 0.75
P_ADDRESS = 0.45
P_SHOP = 0.20  # 个体工商户 rather than a company
# GB 32100-2015: the 31 characters of a 统一社会信用代码 (no I, O, Z, S, V) and the weights
# of its check character; GB 11714: the weights of the organisation code's check digit.
CREDIT_CODE_CHARACTERS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORGANISATION_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# --- helpers ---------------------------------------------------------------------------


def at_least_one(counts: list[int]) -> list[int]:
    """`counts` with every zero raised to 1, taken from the largest counts."""
    counts = list(counts)
    for i, count in enumerate(counts):
        if count == 0:
            largest = max(range(len(counts)), key=lambda j: counts[j])
            if counts[largest] > 1:
                counts[largest] -= 1
                counts[i] = 1
    return counts


def rating_matrix(
    rows: Sequence[int], targets: Sequence[float], columns: Sequence[int]
) -> list[list[int]]:
    """Integer ratings per unit (row) and category (column) with exact row and column
    sums, each row's mix tilted towards its target score (iterative proportional fitting,
    then rounding that keeps the rows exact and moves single ratings to fix columns)."""
    base = [c / sum(columns) for c in columns]
    points = list(RATING_POINTS.values())
    fitted = [
        [
            r * m
            for m in tilted(base, points, min(max(t, 1.0), 99.5), scale=100.0, bound=40.0, steps=80)
        ]
        for r, t in zip(rows, targets, strict=True)
    ]
    for _ in range(300):
        for k, column in enumerate(columns):
            have = sum(row[k] for row in fitted)
            factor = column / have if have else 0.0
            for row in fitted:
                row[k] *= factor
        for row, total in zip(fitted, rows, strict=True):
            have = sum(row)
            if have:
                row[:] = [x * total / have for x in row]
    counts = [largest_remainder(row, total) for row, total in zip(fitted, rows, strict=True)]
    while True:
        excess = [sum(c[k] for c in counts) - columns[k] for k in range(len(columns))]
        over = max(range(len(columns)), key=lambda k: excess[k])
        under = min(range(len(columns)), key=lambda k: excess[k])
        if excess[over] == 0:
            return counts
        donors = [u for u in range(len(counts)) if counts[u][over] > 0]
        u = max(
            donors,
            key=lambda u: (
                (fitted[u][under] - counts[u][under]) - (fitted[u][over] - counts[u][over])
            ),
        )
        counts[u][over] -= 1
        counts[u][under] += 1


def credit_code_check(first_17: str) -> str:
    """The 18th character of a 统一社会信用代码 (GB 32100-2015): 31 − (Σ value × weight)
    mod 31, 31 written as 0."""
    total = sum(
        CREDIT_CODE_CHARACTERS.index(ch) * weight
        for ch, weight in zip(first_17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARACTERS[(31 - total % 31) % 31]


def credit_code(rng: random.Random, kind: str, division: str) -> str:
    """A valid 统一社会信用代码: 9 (市场监管 registered) and 1 (企业) or 2 (个体工商户), the
    district's division code, an organisation code with its GB 11714 check digit, and the
    check character."""
    body = "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    total = sum(CREDIT_CODE_CHARACTERS.index(ch) * w
                for ch, w in zip(body, ORGANISATION_CODE_WEIGHTS, strict=True))  # fmt: skip
    digit = 11 - total % 11
    check = {10: "X", 11: "0"}.get(digit, str(digit))
    first = f"9{kind}{division}{body}{check}"
    return first + credit_code_check(first)


def pick(rng: random.Random, values: Sequence[Any], cum_weights: Sequence[float]) -> Any:
    """One of `values`, weighted by cumulative weights."""
    return rng.choices(values, cum_weights=cum_weights)[0]


# --- the plan --------------------------------------------------------------------------


@dataclass
class UnitPlan:
    """One unit's share of the year: its orders, and its ratings to hand out."""

    name: str
    group: str
    orders: int
    forced_return: bool = False
    target_score: float | None = None
    return_slots: set[int] | None = None  # calibrated: the unit's k-th orders that are returned
    ratings: list[tuple[str, bool]] = field(default_factory=list)  # (rating, excluded)
    rating_slots: set[int] = field(default_factory=set)  # the unit's k-th orders
    received: int = 0
    owed: int = 0  # ratings drawn for an order that could not be rated, carried on
    recent: deque[str] = field(default_factory=lambda: deque(maxlen=200))


@dataclass
class Counts:
    orders: int = 0
    events: int = 0
    by_event: dict[str, int] = field(default_factory=dict)


class YearGenerator:
    """Generates one assessment year, day by day, future events kept in a heap."""

    def __init__(
        self,
        year: int,
        orders: int,
        seed: int,
        facts: bool = False,
        calibration: Plan | None = None,
        close_stragglers: bool = False,
    ) -> None:
        self.year = year
        self.calibration = calibration
        if calibration is not None:  # `orders` is the counted volume; the returns come on top
            orders = sum(u.volume + u.returned for u in calibration.units)
        self.total_orders = orders
        self.rng = random.Random(seed)
        self.facts = facts
        self.facts_rng = random.Random(f"facts-{seed}")
        self.start = date(year - 1, 11, 1)
        self.days = (date(year, 10, 31) - self.start).days + 1
        self.cutoff = self.days * 86400  # seconds from the start: 1 November of `year`, 00:00
        self.number_width = max(6, len(str(orders)))
        self.warnings: list[str] = []
        today = datetime.now(SHANGHAI).date()
        if date(year, 10, 31) >= today:
            self.warnings.append(
                f"assessment year {year} is not over (today is {today}): its events after now "
                "are in the future, and `hotline import` refuses those"
            )
        self._calendar()
        if calibration is None:
            self.units = self._plan_units()
            self._plan_ratings()
            self._plan_arrivals()
        else:
            self._plan_calibrated(calibration)
        self.heap: list[tuple[int, int, str]] = []
        self.close_stragglers = close_stragglers
        self.later: list[tuple[int, int, str]] = []
        """The events after the end of the year, kept with `close_stragglers`."""
        self.sequence = 0
        self.counts = Counts()
        self.hms = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+08:00" for s in range(86400)]
        self.encode = json.JSONEncoder(ensure_ascii=False).encode

    # calendar ---------------------------------------------------------------------------

    def _calendar(self) -> None:
        calendar = WorkingCalendar(official_schedules())
        span = self.days + HORIZON_DAYS
        days = [self.start + timedelta(days=d) for d in range(span)]
        unpublished = calendar.unpublished_years(days[0], days[-1])
        if unpublished:
            years = ", ".join(str(y) for y in unpublished)
            self.warnings.append(
                f"no published holiday schedule for {years}: only weekends and statutory "
                "holidays are off there"
            )
        self.working = [calendar.is_working_day(d) for d in days]
        self.ordinal = [calendar.ordinal(d) for d in days]
        first = self.ordinal[0]
        # day index of working day #o is self._by_ordinal[o - first]
        self._first_ordinal = first
        self._by_ordinal = array("i", [0] * (self.ordinal[-1] - first + 1))
        for d in range(span):
            if self.working[d]:
                self._by_ordinal[self.ordinal[d] - first] = d
        self.day_text = [d.isoformat() for d in days]
        # Cross-check the lookup against the calendar's own arithmetic.
        for d in (0, self.days // 2, self.days - 1):
            for n in (1, 13, 25):
                expected = calendar.add_working_days(days[d], n)
                assert days[self.working_day(d, n)] == expected, (days[d], n)

    def working_day(self, received_day: int, n: int) -> int:
        """Day index of working day `n` after the day `received_day` (n ≥ 1)."""
        return self._by_ordinal[self.ordinal[received_day] + n - self._first_ordinal]

    def next_working_day(self, day: int) -> int:
        """The first working day on or after `day`."""
        while not self.working[day]:
            day += 1
        return day

    # units and ratings ------------------------------------------------------------------

    def _plan_units(self) -> list[UnitPlan]:
        registry = load_unit_registry(rubrics_dir() / "units.toml")
        seed = {name: (volume, satisfaction) for name, volume, satisfaction in RESULTS_2019_UNITS}
        for name in seed:
            if name not in registry:
                self.warnings.append(f"results-2019 unit {name} is not in the registry; skipped")
        groups = [g for g in registry.groups if g.units]
        volumes = []
        for g in groups:
            if g.key not in GROUP_VOLUME_2019:
                self.warnings.append(f"group {g.key} has no 2019 volume; given 1% of the orders")
            volumes.append(GROUP_VOLUME_2019.get(g.key, sum(GROUP_VOLUME_2019.values()) // 100))
        group_orders = largest_remainder(volumes, self.total_orders)
        # Enough orders for every unit to have one, if there are enough orders at all.
        for i, g in enumerate(groups):
            while group_orders[i] < len(g.units):
                richest = max(
                    range(len(groups)), key=lambda j: group_orders[j] - len(groups[j].units)
                )
                if group_orders[richest] <= len(groups[richest].units):
                    break
                group_orders[richest] -= 1
                group_orders[i] += 1
        plans: list[UnitPlan] = []
        for group, total in zip(groups, group_orders, strict=True):
            points: list[float] = []
            for name in group.units:
                if name not in seed:
                    self.warnings.append(
                        f"unit {name} is not in results-2019; given {UNLISTED_UNIT_POINTS} points"
                    )
                points.append(seed.get(name, (UNLISTED_UNIT_POINTS, None))[0])
            # A unit with 0.0000 points gets one order (returned, so its volume stays 0).
            zero = [p == 0.0 for p in points]
            spare = total - sum(zero)
            shares = iter(
                at_least_one(largest_remainder([p for p in points if p > 0], max(spare, 0)))
            )
            counts = [1 if is_zero else next(shares) for is_zero in zero]
            for name, count, is_zero in zip(group.units, counts, zero, strict=True):
                satisfaction = seed.get(name, (0.0, None))[1]
                plans.append(
                    UnitPlan(
                        name=name,
                        group=group.key,
                        orders=count,
                        forced_return=is_zero,
                        target_score=None if satisfaction is None else satisfaction / 35 * 100,
                    )
                )
        # Make the sum exact whatever the minimums did.
        drift = sum(p.orders for p in plans) - self.total_orders
        while drift != 0:
            biggest = max(plans, key=lambda p: p.orders)
            step = 1 if drift > 0 else -1
            biggest.orders -= step
            drift -= step
        return plans

    def _plan_ratings(self) -> None:
        rng = self.rng
        rated = [p for p in self.units if p.target_score is not None and p.orders > 0]
        counted = round(sum(REVIEW_2019_RATINGS.values()) * self.total_orders / REVIEW_2019_ORDERS)
        columns = largest_remainder(list(REVIEW_2019_RATINGS.values()), counted)
        rows = largest_remainder([p.orders for p in rated], counted)
        if counted >= len(rated):
            rows = at_least_one(rows)
        targets = [p.target_score or 0.0 for p in rated]
        if rated and counted:
            matrix = rating_matrix(rows, targets, columns)
        else:
            matrix = [[0] * len(columns) for _ in rated]
        excluded = round(counted * P_EXCLUDED_RATINGS / (1 - P_EXCLUDED_RATINGS))
        excluded_rows = largest_remainder(rows, excluded)
        names = list(REVIEW_2019_RATINGS)
        for plan, row, extra in zip(rated, matrix, excluded_rows, strict=True):
            ratings = [(names[k], False) for k, n in enumerate(row) for _ in range(n)]
            ratings += [
                (pick(rng, EXCLUDED_RATINGS, EXCLUDED_RATING_WEIGHTS), True) for _ in range(extra)
            ]
            rng.shuffle(ratings)
            plan.ratings = ratings

    def _plan_calibrated(self, calibration: Plan) -> None:
        """The units' orders, returns and counted ratings as `calibration` says."""
        rng = self.rng
        registry = load_unit_registry(rubrics_dir() / "units.toml")
        known = {name for g in registry.groups for name in g.units}
        self.units = []
        for unit in calibration.units:
            if unit.unit not in known:
                self.warnings.append(f"calibrated unit {unit.unit} is not in the registry")
            plan = UnitPlan(unit.unit, unit.group, unit.volume + unit.returned)
            counted = sum(unit.ratings)
            mix = zip(REVIEW_2019_RATINGS, unit.ratings, strict=True)
            ratings = [(name, False) for name, n in mix for _ in range(n)]
            excluded = round(counted * P_EXCLUDED_RATINGS / (1 - P_EXCLUDED_RATINGS))
            ratings += [
                (pick(rng, EXCLUDED_RATINGS, EXCLUDED_RATING_WEIGHTS), True)
                for _ in range(excluded)
            ]
            rng.shuffle(ratings)
            plan.ratings = ratings
            self.units.append(plan)
        self._plan_arrivals()
        for plan, unit, early in zip(self.units, calibration.units, self.early_orders, strict=True):
            # among the unit's early orders, so that every return falls inside the year
            plan.return_slots = set(rng.sample(range(early), min(unit.returned, early)))

    def unplaced_ratings(self) -> list[str]:
        """Units left with counted ratings no order of theirs could take (calibrated years
        must have none)."""
        return [p.name for p in self.units if any(not excluded for _, excluded in p.ratings)]

    def _plan_arrivals(self) -> None:
        """The order of arrival of units; rating slots among each unit's early orders."""
        rng = self.rng
        self.daily = self._daily_counts()
        candidates_end = sum(self.daily[: max(self.days - RATING_CANDIDATE_DAYS, 1)])
        self.unit_sequence = array(
            "H", (i for i, p in enumerate(self.units) for _ in range(p.orders))
        )
        rng.shuffle(self.unit_sequence)
        early = [0] * len(self.units)
        for i in self.unit_sequence[:candidates_end]:
            early[i] += 1
        self.early_orders = early
        for index, plan in enumerate(self.units):
            wanted = len(plan.ratings)
            pool = early[index]
            if wanted > pool:
                plan.owed = wanted - pool
                wanted = pool
            plan.rating_slots = set(rng.sample(range(pool), wanted))

    def _daily_counts(self) -> list[int]:
        weights = []
        for d in range(self.days):
            day = self.start + timedelta(days=d)
            if self.working[d]:
                weight = DAY_WEIGHT_WORKING
            elif day.weekday() >= 5 and not self._in_holiday(d):
                weight = DAY_WEIGHT_WEEKEND
            else:
                weight = DAY_WEIGHT_HOLIDAY
            noise = min(max(self.rng.gauss(1.0, 0.08), 0.7), 1.3)
            weights.append(weight * MONTH_WEIGHT[day.month] * noise)
        return largest_remainder(weights, self.total_orders)

    def _in_holiday(self, d: int) -> bool:
        """Whether day `d` (off) belongs to a holiday period: a weekday off nearby."""
        for near in range(max(d - 3, 0), d + 4):
            day = self.start + timedelta(days=near)
            if day.weekday() < 5 and not self.working[near]:
                return True
        return False

    # events -----------------------------------------------------------------------------

    def emit(self, number: str, event: str, at: int, fields: dict[str, Any]) -> None:
        """Queue one event, unless it falls after the end of the year (not exported yet; with
        `close_stragglers`, kept for after the year's)."""
        if at >= self.cutoff and not self.close_stragglers:
            return
        day, second = divmod(at, 86400)
        line = {"order": number, "event": event, "at": f"{self.day_text[day]}T{self.hms[second]}"}
        line.update(fields)
        self.sequence += 1
        heapq.heappush(self.later if at >= self.cutoff else self.heap,
                       (at, self.sequence, self.encode(line)))  # fmt: skip
        self.counts.events += 1
        self.counts.by_event[event] = self.counts.by_event.get(event, 0) + 1

    def unit_time(self, day: int, after: int) -> int:
        """A time in the unit's office hours on working day `day` (or the next one that
        fits), at least a minute after `after`."""
        rng = self.rng
        day = max(day, after // 86400)
        while True:
            day = self.next_working_day(day)
            low = max(day * 86400 + UNIT_HOURS[0], after + 60)
            high = day * 86400 + UNIT_HOURS[1]
            if low < high:
                return rng.randint(low, high)
            day += 1

    def hotline_time(self, day: int, after: int) -> int:
        """A time in the hotline's hours on `day` (any day) or later, after `after`."""
        day = max(day, after // 86400)
        while True:
            low = max(day * 86400 + HOTLINE_HOURS[0], after + 60)
            high = day * 86400 + HOTLINE_HOURS[1]
            if low < high:
                return self.rng.randint(low, high)
            day += 1

    def received_facts(self, unit: str, kind: str) -> dict[str, Any]:
        """The `received` event's facts (--facts): category, where, and whom it is about.
        Drawn from a random source of their own, so the other fields stay as without them."""
        rng = self.facts_rng
        district = next((d for d in DISTRICTS if unit.startswith(d)), None)
        district = district or rng.choice(list(DISTRICTS))
        division, streets = DISTRICTS[district]
        facts: dict[str, Any] = {
            "category": list(rng.choice(CATEGORIES[kind])),
            "district": district,
            "street": rng.choice(streets),
        }
        if rng.random() < P_ADDRESS:
            facts["address"] = (
                f"{rng.choice(ROADS)}{rng.randint(1, 2999)}弄{rng.randint(1, 120)}号"
                f"{rng.randint(1, 30)}{rng.randint(1, 4):02d}室"
            )
        if rng.random() < P_ENTITY.get(kind, 0.10):
            shop = rng.random() < P_SHOP
            name = rng.choice(TRADE_NAMES)
            facts["entity"] = (
                f"{district}{name}{rng.choice(SHOPS)}" if shop
                else f"上海{name}{rng.choice(TRADES)}有限公司"
            )  # fmt: skip
            if rng.random() < P_ENTITY_CODE:
                facts["entity_code"] = credit_code(rng, "2" if shop else "1", division)
        return facts

    def order(self, index: int, received_at: int) -> None:
        """Generate every event of order `index` received at `received_at`."""
        rng = self.rng
        plan = self.units[self.unit_sequence[index]]
        arrival = plan.received
        calibrated = plan.return_slots is not None
        number = f"{self.year}-{index + 1:0{self.number_width}d}"
        d0 = received_at // 86400
        rnd = rng.random

        kind: str = pick(rng, KINDS, KIND_WEIGHTS[plan.group])
        channel = "12315" if rnd() < P_12315.get(kind, 0.03) else "12345"
        if calibrated:  # the calibrated tables are rubric shanghai-12345-2019's: 12345 orders
            channel = "12345"
        received: dict[str, Any] = {"unit": plan.name, "kind": kind, "channel": channel}
        received["summary"] = rng.choice(SUMMARIES[kind])
        if plan.recent and rnd() < P_REPEAT:
            received["repeat_of"] = rng.choice(plan.recent)
        if rnd() < P_CITIZEN_DATA:
            received["citizen_name"] = rng.choice(SURNAMES) + rng.choice(("先生", "女士"))
            received["citizen_phone"] = f"1380000{rng.randrange(10000):04d}"
        if self.facts:
            received.update(self.received_facts(plan.name, kind))
        self.emit(number, "received", received_at, received)
        plan.recent.append(number)
        if plan.received in plan.rating_slots:
            plan.owed += 1
        plan.received += 1

        # 退单, perhaps 二次退回
        last = received_at  # the last change of status
        if plan.return_slots is not None:
            returning = arrival in plan.return_slots
        else:
            returning = plan.forced_return or rnd() < P_RETURN
        if returning:
            out = plan.forced_return or rnd() < P_RETURN_OUT_OF_JURISDICTION
            if rnd() < P_RETURN_BY_DAY_1:
                same_day = self.working[d0] and rnd() < 0.4
                day = d0 if same_day else self.working_day(d0, 1)
            else:
                day = self.working_day(d0, rng.choice((2, 3)))
            returned_at = self.unit_time(day, received_at)
            reason = rng.choice(RETURN_REASONS_OUT if out else RETURN_REASONS_OTHER)
            fields: dict[str, Any] = {"reason": reason, "out_of_jurisdiction": out}
            self.emit(number, "returned", returned_at, fields)
            if plan.forced_return or calibrated or rnd() >= P_RETURN_REJECTED:
                return
            last = self.hotline_time(returned_at // 86400 + rng.randint(0, 3), returned_at)
            self.emit(number, "return_rejected", last, {"reason": rng.choice(REJECT_REASONS)})

        # 先行联系
        no_reply = rnd() < P_NO_REPLY
        cursor = last
        contact_day = 0
        if not (no_reply and rnd() < P_NO_REPLY_NO_CONTACT):
            u = rnd()
            if u >= P_CONTACT_NEVER:
                if u < P_CONTACT_NEVER + P_CONTACT_LATE:
                    day = self.working_day(d0, rng.randint(2, 4))
                elif (
                    self.working[d0]
                    and received_at % 86400 < UNIT_HOURS[1] - 3600
                    and rnd() < P_CONTACT_DAY_0
                ):
                    day = d0
                else:
                    day = self.working_day(d0, 1)
                cursor = self.unit_time(day, cursor)
                contact_day = self.ordinal[cursor // 86400] - self.ordinal[d0]
                method = pick(rng, METHODS, METHOD_WEIGHTS)
                self.emit(
                    number, "first_contact", cursor, {"by": rng.choice(STAFF), "method": method}
                )

        # 延期, then 办结
        limit = 4 if kind == "revisit_review" else 13
        if kind != "revisit_review" and rnd() < P_EXTENDED:
            applied = max(rng.randint(5, 12), contact_day)
            cursor = self.unit_time(self.working_day(d0, applied), cursor)
            applied = self.ordinal[cursor // 86400] - self.ordinal[d0]
            promised = rng.randint(max(10, applied + 1), max(25, applied + 1))
            until_day = self.working_day(d0, promised)
            self.emit(
                number,
                "extended",
                cursor,
                {
                    "until": self.day_text[until_day],
                    "reason": rng.choice(EXTENSION_REASONS),
                    "legal_basis": rng.choice(LEGAL_BASES),
                },
            )
            due = max(promised - 1, 13)
            if rnd() < P_EXTENDED_LATE and not calibrated:
                close_n = due + rng.randint(1, 2)
            elif rnd() < 0.65:
                close_n = due
            else:
                close_n = rng.randint(max(applied, due - 4, 1), due)
        elif rnd() < P_CLOSE_LATE and not calibrated:
            close_n = limit + rng.randint(1, 5)
        elif limit == 4:
            close_n = pick(rng, CLOSE_DAYS_4, CLOSE_WEIGHTS_4)
        else:
            weights = CLOSE_WEIGHTS_CONSULTATION if kind == "consultation" else CLOSE_WEIGHTS_13
            close_n = pick(rng, CLOSE_DAYS_13, weights)
        closed_at = self.unit_time(self.working_day(d0, max(close_n, contact_day, 1)), cursor)
        result: str = pick(rng, RESULTS, RESULT_WEIGHTS)
        informed = not (no_reply and rnd() < 0.5) and rnd() >= P_NOT_INFORMED
        closed: dict[str, Any] = {"result": result, "citizen_informed": informed}
        if no_reply:
            closed["no_reply_requested"] = True
        closed["report"] = rng.choice(REPORTS[result])
        self.emit(number, "closed", closed_at, closed)
        if closed_at >= self.cutoff:
            return

        # 回访, 满意度测评, 督办: the hotline's, after the close
        close_day = closed_at // 86400
        if rnd() < P_REVISITED:
            at = self.hotline_time(close_day + rng.randint(1, 7), closed_at)
            revisit: dict[str, Any] = {"contacted": rnd() >= P_REVISIT_NOT_CONTACTED}
            if revisit["contacted"]:
                revisit["consistent"] = rnd() >= P_REVISIT_INCONSISTENT
                revisit["evaluation"] = pick(rng, EVALUATIONS, EVALUATION_WEIGHTS)
            self.emit(number, "revisited", at, revisit)
        if plan.owed and plan.ratings:
            at = self.hotline_time(close_day + rng.randint(1, 10), closed_at)
            if at < self.cutoff:
                rating, excluded = plan.ratings.pop()
                plan.owed -= 1
                rated: dict[str, Any] = {"rating": rating}
                if excluded:
                    rated["excluded"] = True
                self.emit(number, "rated", at, rated)
        if rnd() < P_SUPERVISED:
            at = self.hotline_time(close_day + rng.randint(2, 20), closed_at)
            self.emit(
                number,
                "supervised",
                at,
                {"at_fault": rnd() < P_SUPERVISED_AT_FAULT and not calibrated},
            )

    # the year ---------------------------------------------------------------------------

    def run(self, out: TextIO | PlatformTable) -> Counts:
        """Write the year's events to `out`, sorted by `at`."""
        rng = self.rng
        index = 0
        heap = self.heap
        for day, count in enumerate(self.daily):
            times = sorted(
                day * 86400 + pick(rng, HOURS, HOUR_WEIGHTS) * 3600 + rng.randrange(3600)
                for _ in range(count)
            )
            for received_at in times:
                self.order(index, received_at)
                index += 1
            self.counts.orders = index
            end = (day + 1) * 86400
            lines = []
            while heap and heap[0][0] < end:
                lines.append(heapq.heappop(heap)[2])
            if lines:
                lines.append("")
                out.write("\n".join(lines))
        assert not heap, "events left after the end of the year"
        if self.later:
            out.write("\n".join(line for _, _, line in sorted(self.later)) + "\n")
        return self.counts


# --- the platform's export (--format xlsx|csv) ----------------------------------------

EXPORT_TITLE = "上海市12345市民服务热线工单导出"
KIND_LABELS = {kind.value: kind.label for kind in Kind}
RESULT_LABELS = {result.value: result.label for result in ClosingResult}
RATING_LABELS = {rating.value: rating.label for rating in Rating}
METHOD_LABELS = {method.value: method.label for method in ContactMethod}
EVALUATION_LABELS = {evaluation.value: evaluation.label for evaluation in Evaluation}
FULL_WIDTH_SPACE = "\u3000"
# How a time is written in a cell, as exports merged from several systems write them.
TIME_STYLES = ("text", "cell", "serial", "slashes", "chinese")
TIME_STYLE_WEIGHTS = tuple(accumulate((70, 10, 8, 6, 6)))
EXCEL_EPOCH = datetime(1899, 12, 30)
P_PADDED = 0.05  # a unit or a summary with full-width spaces around it
ExportCell = str | int | float | datetime | None


class PlatformTable:
    """The year as the platform's export: one row per order in the default layout, folded
    from the generator's JSON Lines as they are written (`write`), in the order received."""

    def __init__(self, seed: int, cells_as_dates: bool) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.rng = random.Random(f"export-{seed}")
        self.cells_as_dates = cells_as_dates
        """Whether a time may be a date cell (a workbook), not only text or a number."""

    def write(self, text: str) -> None:
        for line in text.splitlines():
            self.take(json.loads(line))

    def take(self, event: dict[str, Any]) -> None:
        at = datetime.fromisoformat(event["at"]).replace(tzinfo=None)
        name = event["event"]
        if name == "received":
            category = event.get("category", [])
            self.rows[event["order"]] = {
                "工单编号": event["order"], "派单时间": at, "承办单位": event["unit"],
                "渠道": event["channel"], "工单类型": KIND_LABELS[event["kind"]],
                **dict(zip(("一级分类", "二级分类", "三级分类"), category, strict=False)),
                "诉求内容": event.get("summary"), "诉求人": event.get("citizen_name"),
                "来电号码": event.get("citizen_phone"), "地址": event.get("address"),
                "区": event.get("district"), "街道": event.get("street"),
                "被投诉对象": event.get("entity"), "统一社会信用代码": event.get("entity_code"),
                "关联工单号": event.get("repeat_of"),
            }  # fmt: skip
            return
        row = self.rows[event["order"]]
        if name == "first_contact":
            row.update({"先行联系时间": at, "联系方式": METHOD_LABELS[event["method"]]})
        elif name == "extended":
            row.update({"延期申请时间": at, "延期至": event["until"], "延期原因": event["reason"]})
        elif name == "returned" and "退单时间" not in row:
            kind = OUT_OF_JURISDICTION if event["out_of_jurisdiction"] else OTHER_RETURN
            row.update({"退单时间": at, "退单类型": kind, "退单原因": event["reason"]})
        elif name == "return_rejected":
            row["二次退回时间"] = at
        elif name == "closed":
            row.update({"办结时间": at, "办理结果": RESULT_LABELS[event["result"]],
                        "是否告知": yes_no(event["citizen_informed"]),
                        "无需回复": yes_no(event.get("no_reply_requested", False))})  # fmt: skip
        elif name == "revisited":
            evaluation = EVALUATION_LABELS.get(event.get("evaluation", ""))
            row.update({"回访时间": at, "回访是否联系上": yes_no(event["contacted"]),
                        "回访是否一致": yes_no(event.get("consistent", True)),
                        "回访评价": evaluation})  # fmt: skip
        elif name == "rated":
            row.update({"满意度": RATING_LABELS[event["rating"]], "测评时间": at,
                        "是否纳入测评": yes_no(not event.get("excluded", False))})  # fmt: skip
        elif name == "supervised":
            row.update({"督办时间": at, "督办有责": yes_no(event["at_fault"])})

    def table(self, year: int) -> Iterator[Sequence[ExportCell]]:
        """Title rows, the header, a row per order (with the mess of real exports: times
        written five ways, full-width spaces), and a 合计 row."""
        yield [EXPORT_TITLE]
        yield [f"考核年度：{year}年度    导出时间：{year}-11-01 08:30"]
        yield list(LAYOUT)
        for row in self.rows.values():
            yield [self.cell(heading, row.get(heading)) for heading in LAYOUT]
        yield ["合计", f"{len(self.rows)}件"]

    def cell(self, heading: str, value: Any) -> ExportCell:
        rng = self.rng
        if isinstance(value, datetime):
            return self.moment(value)
        if heading in ("承办单位", "诉求内容") and value and rng.random() < P_PADDED:
            return f"{FULL_WIDTH_SPACE}{value}{FULL_WIDTH_SPACE}"
        return value  # type: ignore[no-any-return]

    def moment(self, at: datetime) -> ExportCell:
        style = pick(self.rng, TIME_STYLES, TIME_STYLE_WEIGHTS)
        if style == "cell" and self.cells_as_dates:
            return at
        if style in ("cell", "serial"):
            return round((at - EXCEL_EPOCH) / timedelta(days=1), 6)
        if style == "slashes":
            return f"{at.year}/{at.month}/{at.day} {at:%H:%M:%S}"
        if style == "chinese":
            return f"{at.year}年{at.month}月{at.day}日{at.hour}时{at.minute:02d}分"
        return f"{at:%Y-%m-%d %H:%M}"


def write_export(path: str, form: str, table: Iterable[Sequence[ExportCell]]) -> None:
    """The export to `path` (or stdout, for CSV) as .xlsx or GB18030 CSV."""
    if path == "-":
        write_csv(sys.stdout.buffer, table)
        sys.stdout.buffer.flush()
        return
    with Path(path).open("wb") as file:
        if form == "xlsx":
            write_xlsx(file, "工单", table)
        else:
            write_csv(file, table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Generate an assessment year of hotline work-order events as JSON Lines.",
    )
    parser.add_argument("--year", type=int, default=2019, help="assessment year (default 2019)")
    parser.add_argument(
        "--orders", type=int, default=REVIEW_2019_ORDERS, help="orders received (default 240409)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--output", default="-", help="output file, or - for stdout (default)")
    parser.add_argument(
        "--format",
        choices=("jsonl", "xlsx", "csv"),
        default="jsonl",
        help="jsonl: the events (default); xlsx or csv (GB18030): the platform's export, one "
        "row per order",
    )
    parser.add_argument(
        "--facts",
        action="store_true",
        help="give every order its category, district, street and perhaps an address and the "
        "entity complained of, with its 统一社会信用代码",
    )
    parser.add_argument(
        "--close-stragglers",
        action="store_true",
        help="after the year's events, those of its orders after 31 October (their contacts, "
        "extensions, returns and closes), as a store kept into the next year records them: "
        "no order is left open for ever; the year's own lines are the same",
    )
    parser.add_argument(
        "--calibrate",
        metavar="NAME",
        help="shape the year to published results (scripts/calibrations/NAME.toml; seed000: "
        "results-2019's 附件1–3 and review-2019's ratings): --orders is then the volume "
        "counted by rubric shanghai-12345-2019 (12345 orders 不含退单; returns come on top), "
        "every order is a 12345 one, none is late, supervised at fault or returned twice. At "
        "240409 the tables are the annexes to the printed decimal; smaller, a group of V orders "
        "resolves 受理数量 only to 10/V, so some volume cells (and the totals and satisfaction "
        "cells that follow) differ: they are listed on stderr (docs/generate.md)",
    )
    args = parser.parse_args(argv)
    if args.format == "xlsx" and args.output == "-":
        parser.error("--format xlsx needs --output FILE (a workbook is not text)")
    if args.orders < 1:
        parser.error("--orders must be at least 1")
    if not 2001 <= args.year <= 2099:
        parser.error("--year must be within the working-day calendar (2001–2099)")

    started = time.perf_counter()
    plan = None
    if args.calibrate is not None:
        try:
            plan = calibrate(args.calibrate, args.orders)
        except ValueError as error:
            parser.error(str(error))
        for difference in plan.differences:
            print(f"generate_year: differs from {args.calibrate}: {difference}", file=sys.stderr)
    generator = YearGenerator(
        args.year, args.orders, args.seed, args.facts, plan, args.close_stragglers
    )
    for warning in generator.warnings:
        print(f"generate_year: warning: {warning}", file=sys.stderr)
    try:
        if args.format != "jsonl":
            table = PlatformTable(args.seed, cells_as_dates=args.format == "xlsx")
            counts = generator.run(table)
            write_export(args.output, args.format, table.table(args.year))
        elif args.output == "-":
            sys.stdout.reconfigure(encoding="utf-8", newline="\n")  # type: ignore[union-attr]
            counts = generator.run(sys.stdout)
            sys.stdout.flush()
        else:
            with Path(args.output).open("w", encoding="utf-8", newline="\n") as out:
                counts = generator.run(out)
    except BrokenPipeError:  # e.g. `| head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    seconds = time.perf_counter() - started
    unplaced = generator.unplaced_ratings() if plan is not None else []
    if unplaced:
        print(
            f"generate_year: error: no order left to rate for {', '.join(unplaced)}; "
            "try a larger --orders",
            file=sys.stderr,
        )
        return 1
    where = "stdout" if args.output == "-" else args.output
    print(
        f"generate_year: assessment year {args.year} ({generator.start} … {args.year}-10-31): "
        f"{counts.orders:,} orders, {counts.events:,} events in {seconds:.1f} s → {where}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
