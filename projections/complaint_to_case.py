"""诉转案率 complaint to case: complaints accepted (受理) in the period that were filed as
a case (立案, a 诉转案) ÷ complaints accepted in the period; the case decision is taken
as the store stands (today, or --as-of), whenever it was made."""

from hotline.domain.facts import NONE
from hotline.domain.metrics import Facts, Flags, Metric, Shortfall, day
from hotline.domain.vocabulary import Kind


def accepted(f: Facts) -> Flags:
    return f.within(f.t.accepted) & (f.t.kind == Kind.COMPLAINT.code)


def not_filed(f: Facts, row: int) -> str:
    if f.t.case_decided[row] == NONE:
        return f"accepted on {day(f.t.accepted[row])}, no case decided"
    return f"accepted on {day(f.t.accepted[row])}, no case filed ({day(f.t.case_decided[row])})"


METRIC = Metric(
    key="complaint_to_case",
    label="诉转案率",
    title="complaint-to-case rate",
    position=105,
    numerator=lambda f: f.t.case_filed,
    denominator=accepted,
    shortfalls=(Shortfall(lambda f: ~f.t.case_filed, not_filed),),
)
