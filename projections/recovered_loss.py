"""挽回经济损失 recovered loss: the yuan recovered for consumers in the mediations that
ended (调解终结) in the period, summed in fen and shown in yuan to the fen, exactly;
explained by the orders the sum is made of."""

from decimal import Decimal

import numpy as np

from hotline.domain.metrics import Facts, Metric, Shortfall, Weights, day


def recovered(f: Facts) -> Weights:
    # Whole fen: exact as float64 weights up to 2**53 fen (90 trillion yuan).
    fen = f.orders.recovered_fen * f.within(f.t.mediation_ended)
    return fen.astype(np.float64)


def amount(f: Facts, row: int) -> str:
    yuan = Decimal(int(f.orders.recovered_fen[row])).scaleb(-2)
    return f"recovered {yuan} yuan, mediation ended {day(f.t.mediation_ended[row])}"


METRIC = Metric(
    key="recovered_loss",
    label="挽回经济损失",
    title="recovered loss",
    position=110,
    numerator=recovered,
    unit="元",
    minor_units=100,
    shortfalls=(Shortfall(lambda f: recovered(f) > 0, amount),),
)
