"""满意度 satisfaction score: (100·满意 + 80·基本满意 + 60·一般 + 0·不满意) ÷ rated,
over the ratings given in the period, excluded ones (客观件/不纳入测评) left out.
review-2019: 7984/1138/526/1211 → 84.81."""

import numpy as np

from hotline.domain.metrics import UNSET, Facts, Flags, Metric, Shortfall, day
from hotline.domain.vocabulary import Rating

POINTS = {
    Rating.SATISFIED: 100,
    Rating.BASICALLY_SATISFIED: 80,
    Rating.AVERAGE: 60,
    Rating.DISSATISFIED: 0,
}
_BY_CODE = np.zeros(len(Rating) + 1)
for rating, points in POINTS.items():
    _BY_CODE[rating.code] = points


def below_full(f: Facts) -> Flags:
    return (f.orders.rating != UNSET) & (f.orders.rating != Rating.SATISFIED.code)


def rated(f: Facts, row: int) -> str:
    rating = list(Rating)[f.orders.rating[row]]
    when = day(f.orders.rated[row])
    return f"rated {rating.value} ({rating.label}, {POINTS[rating]} points) on {when}"


METRIC = Metric(
    key="satisfaction",
    label="满意度",
    title="satisfaction score",
    position=60,
    numerator=lambda f: _BY_CODE[f.orders.rating],
    denominator=Facts.counted_ratings,
    scale=1.0,
    unit="",
    shortfalls=(Shortfall(below_full, rated),),
)
