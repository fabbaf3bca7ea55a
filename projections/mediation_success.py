"""调解成功率 mediation success: mediations that ended in an agreement (达成调解协议) ÷
mediations that ended (调解终结) in the period; only accepted 12315 complaints are
mediated (SAMR Order No. 20)."""

from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day
from hotline.domain.vocabulary import MediationOutcome


def ended(f: Facts) -> Flags:
    return f.within(f.t.mediation_ended)


def terminated(f: Facts, row: int) -> str:
    return f"mediation terminated (终止调解) on {day(f.t.mediation_ended[row])}"


METRIC = Metric(
    key="mediation_success",
    label="调解成功率",
    title="mediation success rate",
    position=100,
    numerator=lambda f: f.orders.mediation_outcome == MediationOutcome.AGREEMENT.code,
    denominator=ended,
    shortfalls=(
        Shortfall(
            lambda f: f.orders.mediation_outcome == MediationOutcome.TERMINATED.code, terminated
        ),
    ),
)
