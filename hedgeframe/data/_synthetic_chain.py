"""A synthetic daily option chain on real closes, for runs of the snapshot provider.

Real daily chains for the sample period are not freely redistributable, so BT-002 runs on
the bundled sample read a chain generated here instead: monthly expiries and a listed-looking
strike grid, priced with Black-Scholes-Merton from the day's VIX close with a term structure
and a skew. Every row is labelled ``source = "synthetic:bsm-vix-skew-v1"``. Generation is a
pure, deterministic function of the bars, the VIX closes and the exchange calendar; the chain
is not committed (it is tens of MB) but rebuilt on demand by :func:`write_synthetic_chain`.

The rules, each a module constant below (``docs/`` and ``datasets/README.md`` describe them):

- **Expiries.** Monthly, on the third Friday, or the previous session when that Friday is
  not one (as SPX monthlies did on Good Friday 2014 and 2019). On session ``T`` the chain
  lists every monthly expiry after ``T`` up to the one in the 13th month after ``T``'s month
  (13 or 14 expiries), so an expiry at or beyond ``T + 365`` days always exists. A contract
  is not quoted on its expiry day.
- **Strikes.** Multiples of an increment ``u`` fixed per expiry: the value of
  ``{1, 2.5, 5} x 10^k`` nearest (on a log scale) to 1% of the first close on or after the
  expiry's listing day (the 1st of the month 13 months before its month); for the S&P 500
  that is 25 points between 1,581 and 3,536 (every sample expiry after May 2014; 10 before).
  Three tiers (``_STRIKE_TIERS``): over 180 days to expiry, multiples of ``4u`` from 60% to
  125% of spot; 61-180 days, ``2u`` from 75% to 115%; up to 60 days, ``u`` from 85% to 110%.
  A strike, once listed, stays listed until expiry, as on an exchange: each tier's band is
  applied to the lowest and highest close of the tier's window so far, and an expiry lists
  the union of its tiers' strikes, so a held contract keeps its quote through a selloff.
- **Volatility.** ATM variance for tenor ``tau`` (years) reverts from VIX^2 to
  ``long_run_vol^2``: ``s_atm^2 = lr^2 + (vix^2 - lr^2) g(tau) / g(30/365)`` with
  ``g(t) = (1 - exp(-k t)) / (k t)``; tenors up to 30 days use the VIX itself. Skew:
  ``s = s_atm * clip(1 + skew * sqrt(30/365 / max(tau, 30/365)) * ln(K/F), 0.5, 3.0)``.
- **Prices.** Black-Scholes-Merton with rate 0 and dividend yield 0 (so ``F = S``), tau in
  calendar days / 365 as the engine uses. ``mid = max(price, 0.025)``; the quote is
  ``max(0.05, 2% of mid)`` wide around it, so ``bid >= 0`` and ``mid = (bid + ask) / 2``; a
  contract worth less than half a tick is quoted 0 / 0.05 rather than dropped, so it can
  still be marked. ``implied_volatility`` is the sigma used, ``delta`` its BSM delta.
- **Liquidity.** ``open_interest = floor(10000 exp(-(ln(K/S) / 0.15)^2 / 2) / (1 + 4 tau))``
  and ``volume = open_interest // 10``: deterministic placeholders, not a model.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe.data._calendar import get_calendar
from hedgeframe.data._schemas import OPTION_QUOTE_SCHEMA
from hedgeframe.errors import MissingMarketDataError
from hedgeframe.pricing import black_scholes_delta, black_scholes_price

if TYPE_CHECKING:
    from hedgeframe.data._store import MarketDataStore

__all__ = [
    "SYNTHETIC_CHAIN_SOURCE",
    "build_synthetic_chain",
    "monthly_expiries",
    "write_synthetic_chain",
]

_F64 = npt.NDArray[np.float64]
_I64 = npt.NDArray[np.int64]
_Days = npt.NDArray[np.datetime64]

SYNTHETIC_CHAIN_SOURCE: Final = "synthetic:bsm-vix-skew-v1"
"""The ``source`` of every synthetic quote; bump the suffix when a rule below changes."""

MONTHS_LISTED: Final = 13
"""Expiries run to the third Friday of the 13th month after the quote date's month."""


class _StrikeTier(NamedTuple):
    min_tenor_days: int  # the tier applies while (expiry - day).days > min_tenor_days
    step_units: int  # strike spacing in units of the expiry's increment u
    band_low: float  # lowest strike listed, as a fraction of spot
    band_high: float  # highest strike listed, as a fraction of spot


_STRIKE_TIERS: Final = (
    _StrikeTier(min_tenor_days=180, step_units=4, band_low=0.60, band_high=1.25),
    _StrikeTier(min_tenor_days=60, step_units=2, band_low=0.75, band_high=1.15),
    _StrikeTier(min_tenor_days=0, step_units=1, band_low=0.85, band_high=1.10),
)
"""Coarse strikes far out, finer ones as expiry nears, like listed index options; each
step divides the one before, so no strike disappears when a contract changes tier."""

_MAX_STRIKES: Final = 2_000
"""More strikes than this in one tier of one expiry means a bad close in the bars."""
_INCREMENT_PCT: Final = 0.01
_TAU_30D: Final = 30.0 / 365.0
_SKEW_CLIP: Final = (0.5, 3.0)
_MIN_MID: Final = 0.025
_MIN_WIDTH: Final = 0.05
_WIDTH_PCT: Final = 0.02
_OI_SCALE: Final = 10_000.0
_OI_MONEYNESS_WIDTH: Final = 0.15
_RATE: Final = 0.0
_DIVIDEND_YIELD: Final = 0.0


# --- expiries -----------------------------------------------------------------------------


def _third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    # Friday is weekday 4; the first Friday is 0-6 days after the 1st.
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _add_months(day: date, months: int) -> date:
    """First day of the month ``months`` months after ``day``'s month."""
    index = _month_index(day) + months
    return date(index // 12, index % 12 + 1, 1)


def monthly_expiries(first_month: date, last_month: date, *, calendar: str = "XNYS") -> _Days:
    """Monthly expiries from ``first_month``'s month to ``last_month``'s, as datetime64[D].

    The third Friday, or the latest session before it when it is not a session (Good
    Friday 2014-04-18 gives 2014-04-17), which is how exchanges move monthly expiries.

    Parameters
    ----------
    first_month, last_month
        Any day of the first and the last month; both months are included.
    calendar
        Exchange calendar name.

    Returns
    -------
    numpy.ndarray
        One datetime64[D] per month, ascending.

    Raises
    ------
    ValueError
        If a third Friday lies outside the calendar's sessions.

    Examples
    --------
    >>> [str(d) for d in monthly_expiries(date(2014, 3, 1), date(2014, 4, 1))]
    ['2014-03-21', '2014-04-17']
    """
    sessions = np.asarray(get_calendar(calendar).sessions, dtype="datetime64[D]")
    fridays = np.array(
        [
            _third_friday(m // 12, m % 12 + 1)
            for m in range(_month_index(first_month), _month_index(last_month) + 1)
        ],
        dtype="datetime64[D]",
    )
    if fridays.size == 0:
        return fridays
    if fridays[0] < sessions[0] or fridays[-1] > sessions[-1]:
        msg = (
            f"monthly expiries {fridays[0]}..{fridays[-1]} fall outside the {calendar} "
            f"calendar's sessions {sessions[0]}..{sessions[-1]}"
        )
        raise ValueError(msg)
    expiries: _Days = sessions[np.searchsorted(sessions, fridays, side="right") - 1]
    return expiries


# --- the grid -----------------------------------------------------------------------------


def _nice_increment(value: _F64) -> _F64:
    """Nearest value of ``{1, 2.5, 5} x 10^k`` on a log scale, elementwise."""
    decade = np.power(10.0, np.floor(np.log10(value)))
    candidates = decade[:, None] * np.array([1.0, 2.5, 5.0, 10.0])
    best = np.argmin(np.abs(np.log(candidates / value[:, None])), axis=1)
    chosen: _F64 = np.take_along_axis(candidates, best[:, None], axis=1)[:, 0]
    return chosen


def _listing_days(expiries: _Days) -> _Days:
    """First day of the month ``MONTHS_LISTED`` months before each expiry's month."""
    months = expiries.astype("datetime64[M]") - np.timedelta64(MONTHS_LISTED, "M")
    listed: _Days = months.astype("datetime64[D]")
    return listed


def _tier_extremes(
    bar_days: _Days, closes: _F64, expiries: _Days, listed: _Days
) -> tuple[_F64, _F64]:
    """Lowest and highest close of each tier's window so far, per (tier, expiry, bar).

    Entry ``[j, e, i]`` covers the bars from the later of the listing day and the start of
    tier ``j`` up to bar ``i`` (NaN before the window opens); the window of a tier closes
    when the next tier begins, and its extremes then stay frozen.
    """
    shape = (len(_STRIKE_TIERS), expiries.size, bar_days.size)
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    for e, (expiry, first_day) in enumerate(zip(expiries, listed, strict=True)):
        begin = int(np.searchsorted(bar_days, first_day, side="left"))
        stop = int(np.searchsorted(bar_days, expiry, side="left"))
        tenor = (expiry - bar_days[begin:stop]).astype(np.int64)
        upper = np.iinfo(np.int64).max
        for j, tier in enumerate(_STRIKE_TIERS):
            later = _STRIKE_TIERS[j - 1].min_tenor_days if j else upper
            inside = np.flatnonzero((tenor > tier.min_tenor_days) & (tenor <= later))
            if inside.size == 0:
                continue
            a, b = begin + int(inside[0]), begin + int(inside[-1]) + 1
            low[j, e, a:b] = np.minimum.accumulate(closes[a:b])
            high[j, e, a:b] = np.maximum.accumulate(closes[a:b])
            low[j, e, b:stop] = low[j, e, b - 1]
            high[j, e, b:stop] = high[j, e, b - 1]
    return low, high


def _expand_ranges(first: _I64, count: _I64) -> tuple[_I64, _I64]:
    """For ranges ``first[i] .. first[i] + count[i] - 1``: (owner index, value) per element."""
    owner = np.repeat(np.arange(first.size, dtype=np.int64), count)
    starts = np.cumsum(count) - count
    offset = np.arange(owner.size, dtype=np.int64) - np.repeat(starts, count)
    return owner, first[owner] + offset


# --- volatility, prices, liquidity --------------------------------------------------------


def _atm_vol(vix: _F64, tau: _F64, long_run_vol: float, mean_reversion: float) -> _F64:
    def g(t: _F64) -> _F64:
        kt = mean_reversion * t
        out: _F64 = -np.expm1(-kt) / kt
        return out

    t = np.maximum(tau, _TAU_30D)
    weight = g(t) / g(np.full(1, _TAU_30D))
    variance = long_run_vol**2 + (vix**2 - long_run_vol**2) * weight
    vol: _F64 = np.sqrt(variance)
    return vol


def _smile(atm: _F64, tau: _F64, log_moneyness: _F64, skew: float) -> _F64:
    slope = skew * np.sqrt(_TAU_30D / np.maximum(tau, _TAU_30D))
    factor = np.clip(1.0 + slope * log_moneyness, *_SKEW_CLIP)
    vol: _F64 = atm * factor
    return vol


def _closes(frame: pl.DataFrame, what: str, symbol: str | None) -> pl.DataFrame:
    missing = {"date", "close"} - set(frame.columns)
    if missing:
        msg = f"{what} frame lacks column(s) {sorted(missing)}; it needs 'date' and 'close'"
        raise ValueError(msg)
    if symbol is not None and "symbol" in frame.columns:
        frame = frame.filter(pl.col("symbol") == symbol)
    out = (
        frame.select(pl.col("date").cast(pl.Date), pl.col("close").cast(pl.Float64))
        .filter(pl.col("close").is_not_null() & pl.col("close").is_finite())
        .sort("date")
    )
    if out["date"].is_duplicated().any():
        first = out.filter(pl.col("date").is_duplicated())["date"][0]
        msg = f"{what} frame has more than one close on {first}"
        raise ValueError(msg)
    if (out["close"] <= 0.0).any():
        first = out.filter(pl.col("close") <= 0.0)["date"][0]
        msg = f"{what} frame has a close <= 0 on {first}; closes must be positive"
        raise ValueError(msg)
    return out


def build_synthetic_chain(
    bars: pl.DataFrame,
    vix: pl.DataFrame,
    *,
    symbol: str = "^GSPC",
    start: date,
    end: date,
    calendar: str = "XNYS",
    long_run_vol: float = 0.18,
    mean_reversion: float = 1.5,
    skew: float = -3.0,
) -> pl.DataFrame:
    """Generate the synthetic daily chain of ``symbol`` for ``start..end``.

    A pure function of its inputs, so a test or a rebuild gets the same rows. A quote
    on day ``T`` reads the close of ``T`` and earlier (for the strike listing) and the VIX
    close of ``T`` only: the chain is point-in-time. The rules are in the module docstring.

    Parameters
    ----------
    bars
        Daily bars with ``date`` and ``close`` (rows of other symbols are ignored when a
        ``symbol`` column is present). Include the 13 months before ``start``, which the
        strike listing reads; with fewer, it starts from the first bar given.
    vix
        The volatility index's daily closes (``date``, ``close``), in index points.
    symbol
        Underlying symbol written into the quotes.
    start, end
        Quote dates, inclusive; only days with both a bar and a VIX close are quoted.
    calendar
        Exchange calendar that decides which days are sessions, for the expiry rule.
    long_run_vol
        ATM volatility that long tenors revert to.
    mean_reversion
        Speed (per year) at which ATM variance reverts from VIX^2 to ``long_run_vol^2``.
    skew
        Change of ``sigma / sigma_atm`` per unit of ``ln(K/F)`` at 30 days (scaled by
        ``sqrt(30 days / tau)`` beyond).

    Returns
    -------
    polars.DataFrame
        Quotes in ``OPTION_QUOTE_SCHEMA``, sorted by as_of_date, expiry and strike, the
        put before the call.

    Raises
    ------
    MissingMarketDataError
        If no day in ``start..end`` has both a bar and a VIX close.
    ValueError
        If a frame lacks ``date``/``close``, has two closes on one day or a close <= 0, or
        if ``long_run_vol`` or ``mean_reversion`` is not positive.

    Examples
    --------
    >>> from hedgeframe.sample import sample_store
    >>> store = sample_store()
    >>> chain = build_synthetic_chain(
    ...     store.underlying_bars("^GSPC", start=date(2017, 1, 1)),
    ...     store.underlying_bars("^VIX"),
    ...     start=date(2018, 2, 5),
    ...     end=date(2018, 2, 5),
    ... )
    >>> chain.height, chain["expiry"].n_unique()
    (794, 14)
    """
    if not (long_run_vol > 0.0 and mean_reversion > 0.0):
        msg = f"long_run_vol ({long_run_vol}) and mean_reversion ({mean_reversion}) must be > 0"
        raise ValueError(msg)
    underlying = _closes(bars, "bars", symbol)
    quoted = underlying.filter(pl.col("date").is_between(start, end)).join(
        _closes(vix, "vix", None).rename({"close": "vix"}), on="date", how="inner"
    )
    if quoted.height == 0:
        msg = (
            f"no day in {start}..{end} has both a {symbol} bar and a volatility-index close; "
            "load both into the store first (python datasets/build_sample.py)"
        )
        raise MissingMarketDataError(msg)

    days = quoted["date"].to_numpy().astype("datetime64[D]")
    expiries = monthly_expiries(
        quoted["date"][0], _add_months(quoted["date"][-1], MONTHS_LISTED), calendar=calendar
    )
    d, e, strike = _grid(underlying, days, expiries)

    spot = quoted["close"].to_numpy().astype(np.float64)[d]
    tau = (expiries[e] - days[d]).astype(np.int64) / 365.0
    log_moneyness = np.log(strike / spot)
    atm = _atm_vol(quoted["vix"].to_numpy()[d] / 100.0, tau, long_run_vol, mean_reversion)
    sigma = _smile(atm, tau, log_moneyness, skew)
    option_type = np.tile(np.array(["put", "call"]), d.size // 2)
    price = black_scholes_price(
        option_type, spot, strike, tau, sigma, rate=_RATE, dividend_yield=_DIVIDEND_YIELD
    )
    delta = black_scholes_delta(
        option_type, spot, strike, tau, sigma, rate=_RATE, dividend_yield=_DIVIDEND_YIELD
    )
    mid = np.maximum(price, _MIN_MID)
    half = 0.5 * np.maximum(_MIN_WIDTH, _WIDTH_PCT * mid)
    bid, ask = mid - half, mid + half
    bell = np.exp(-0.5 * (log_moneyness / _OI_MONEYNESS_WIDTH) ** 2)
    open_interest = np.floor(_OI_SCALE * bell / (1.0 + 4.0 * tau)).astype(np.int64)

    chain = pl.DataFrame(
        {
            "as_of_date": days[d],
            "option_type": option_type,
            "expiry": expiries[e],
            "strike": strike,
            "bid": bid,
            "ask": ask,
            "mid": (bid + ask) / 2.0,
            "implied_volatility": sigma,
            "delta": delta,
            "open_interest": open_interest,
            "volume": open_interest // 10,
            "underlying_close": spot,
        }
    ).with_columns(symbol=pl.lit(symbol), source=pl.lit(SYNTHETIC_CHAIN_SOURCE))
    return chain.select(OPTION_QUOTE_SCHEMA.names()).cast(OPTION_QUOTE_SCHEMA)


def _grid(underlying: pl.DataFrame, days: _Days, expiries: _Days) -> tuple[_I64, _I64, _F64]:
    """List the contracts of each quote day: (day index, expiry index, strike), put first.

    Sorted by day, expiry and strike. ``expiries`` starts at the first day's month.
    """
    listed = _listing_days(expiries)
    history = underlying.filter(pl.col("date") >= listed[0].item())
    bar_days = history["date"].to_numpy().astype("datetime64[D]")
    closes = history["close"].to_numpy().astype(np.float64)
    first_close = closes[np.minimum(np.searchsorted(bar_days, listed), closes.size - 1)]
    increment = _nice_increment(_INCREMENT_PCT * first_close)
    low, high = _tier_extremes(bar_days, closes, expiries, listed)

    # (day, expiry) pairs: the expiries after the day, to the 13th month after its month.
    day_month = days.astype("datetime64[M]").astype(np.int64)
    pair_exp = (day_month - day_month[0])[:, None] + np.arange(MONTHS_LISTED + 1)[None, :]
    pair_day = np.broadcast_to(np.arange(days.size)[:, None], pair_exp.shape)
    live = expiries[pair_exp] > days[:, None]
    pair_day, pair_exp = pair_day[live], pair_exp[live]
    pair_bar = np.searchsorted(bar_days, days)[pair_day]

    # Strikes in units of the expiry's increment: the union of the tiers' grids.
    keys: list[_I64] = []
    for j, tier in enumerate(_STRIKE_TIERS):
        lo, hi = low[j, pair_exp, pair_bar], high[j, pair_exp, pair_bar]
        has = np.flatnonzero(~np.isnan(lo))
        step = tier.step_units * increment[pair_exp[has]]
        k_first = np.ceil(tier.band_low * lo[has] / step).astype(np.int64)
        k_last = np.floor(tier.band_high * hi[has] / step).astype(np.int64)
        count = np.maximum(k_last - k_first + 1, 0)
        if count.size and count.max() > _MAX_STRIKES:
            worst = int(np.argmax(count))
            pair = has[worst]
            msg = (
                f"expiry {expiries[pair_exp[pair]]} on {days[pair_day[pair]]} would list "
                f"{count[worst]} strikes (at most {_MAX_STRIKES}): the closes since its "
                f"listing run from {lo[pair]:g} to {hi[pair]:g}; check the bars for a bad close"
            )
            raise ValueError(msg)
        owner, k = _expand_ranges(k_first, count)
        keys.append(has[owner].astype(np.int64) << 32 | k * tier.step_units)
    key = np.repeat(np.unique(np.concatenate(keys)), 2)
    pair, units = key >> 32, key & 0xFFFFFFFF
    exp = pair_exp[pair]
    strike: _F64 = units.astype(np.float64) * increment[exp]
    day: _I64 = pair_day[pair].astype(np.int64)
    return day, exp.astype(np.int64), strike


def write_synthetic_chain(
    store: MarketDataStore,
    *,
    symbol: str = "^GSPC",
    vol_symbol: str = "^VIX",
    start: date = date(2014, 1, 2),
    end: date = date(2018, 12, 31),
    calendar: str = "XNYS",
) -> int:
    """Generate the synthetic chain from the store's bars and write it back, month by month.

    The chain is not bundled (tens of MB); this rebuilds the same rows on demand into a
    store the caller names. Existing quotes of the same contracts and days are replaced.

    Parameters
    ----------
    store
        Store holding ``symbol`` and ``vol_symbol`` bars; the quotes are written into it.
    symbol
        Underlying symbol.
    vol_symbol
        Volatility index whose close / 100 is the 30-day ATM volatility.
    start, end
        Quote dates, inclusive.
    calendar
        Exchange calendar for the expiry rule.

    Returns
    -------
    int
        Number of quote rows written.

    Raises
    ------
    MissingMarketDataError
        If the store lacks the bars or the VIX closes for the period.
    """
    bars = store.underlying_bars(symbol, start=_add_months(start, -MONTHS_LISTED), end=end)
    vix = store.underlying_bars(vol_symbol, start=start, end=end)
    written = 0
    for year in range(start.year, end.year + 1):
        year_start, year_end = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
        try:
            chain = build_synthetic_chain(
                bars, vix, symbol=symbol, start=year_start, end=year_end, calendar=calendar
            )
        except MissingMarketDataError:
            continue
        months = chain.with_columns(_month=pl.col("as_of_date").dt.month())
        for month in months.partition_by("_month", maintain_order=True, include_key=False):
            store.write_option_quotes(month)
            written += month.height
    if written == 0:
        msg = (
            f"no day in {start}..{end} has both a {symbol} bar and a {vol_symbol} close in "
            "the store; build the sample store with python datasets/build_sample.py"
        )
        raise MissingMarketDataError(msg)
    return written
