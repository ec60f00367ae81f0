"""The synthetic provider prices large batches in cache-sized blocks; results must not move.

Black-Scholes is elementwise, so pricing a batch in blocks, on one thread or several, has
to give exactly the numbers of one call over the whole batch, including expiries settled
at intrinsic value.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

import hedgeframe as hf
from hedgeframe.pricing import black_scholes_price_is_call
from hedgeframe.providers import ContractArrays
from hedgeframe.providers._synthetic import _PRICING_BLOCK


@pytest.mark.parametrize("cores", [1, 4])
def test_blocked_marks_equal_one_black_scholes_call_over_the_batch(
    cores: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One thread, or a pool of four.
    monkeypatch.setattr("hedgeframe._blocks.thread_count", lambda: cores)
    provider = hf.SyntheticHistoricalProvider(
        hf.sample_store(), volatility=hf.TrailingRealizedVol(21), rate=0.02, spread_pct=0.01
    )
    timeline = provider.load_timeline("^GSPC", date(2000, 1, 3), date(2018, 12, 31))
    sigmas = timeline.sigmas
    assert sigmas is not None
    rng = np.random.default_rng(7)
    n = 3 * _PRICING_BLOCK + 7  # three full blocks and a short one
    day = rng.integers(0, timeline.n_days, n)
    expiry = timeline.days[day] + rng.integers(-30, 400, n).astype("timedelta64[D]")
    is_call = rng.random(n) < 0.3
    strike = timeline.closes[day] * rng.uniform(0.7, 1.2, n)
    contracts = ContractArrays(is_call, strike, expiry, np.ones(n, dtype=bool))

    marks = provider.mark_contracts(timeline, contracts, day)

    tau = (expiry - timeline.days[day]).astype(np.float64) / 365.0
    expected = black_scholes_price_is_call(
        is_call, timeline.closes[day], strike, tau, sigmas[day], 0.02, 0.0
    )
    live = expiry > timeline.days[day]
    assert live.sum() > 2 * _PRICING_BLOCK
    np.testing.assert_array_equal(marks.mid[live], expected[live])
    np.testing.assert_array_equal(marks.buy[live], expected[live] * 1.005)
    np.testing.assert_array_equal(marks.sell[live], expected[live] * 0.995)
    settled = timeline.intrinsic_at_expiry(contracts.take(np.flatnonzero(~live)))
    np.testing.assert_array_equal(marks.mid[~live], settled)
