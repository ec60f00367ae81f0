"""Fit a :class:`~hedgeframe.pricing.VolSurface` to a stored option chain (SPEC 9.4).

**Objective.** Vega-weighted volatility errors: each quote contributes
``w (sigma_model - sigma_market)`` with ``w`` its Black-Scholes vega per unit of spot at
the market volatility. To first order that is the price error as a fraction of spot, so
the fit cares about money, not about far wings whose volatility a tick moves by points;
unlike a plain price fit it needs no Black-Scholes evaluation per trial, so a year of a
chain fits in seconds. Minimised by ``scipy.optimize.least_squares`` (trust-region
reflective) within :data:`CALIBRATION_BOUNDS`, from the starting surface's values.

**Quotes used.** Each calibration day's usable quotes (a mid above zero, no zero ask) with
at least :data:`MIN_TENOR_DAYS` days to expiry, out of the money against the forward
(puts below it, calls at or above), whose mid has an implied volatility (the day's close
as spot; ``rate`` and ``dividend_yield`` as given). One parameter set fits every day: the
days differ only in their index levels, which is what a regime applied to later days sees.

**Point in time.** Only bars and index closes dated on or before the last calibration day
are read, and quotes dated on the calibration days only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt
import polars as pl

from hedgeframe.errors import BadInputError, MissingMarketDataError
from hedgeframe.pricing._black_scholes import black_scholes_price_is_call, black_scholes_vega
from hedgeframe.pricing._implied import implied_volatility
from hedgeframe.pricing._surface import SurfaceDays
from hedgeframe.pricing._volatility import (
    FlatVolatilityRegime,
    VolatilityInputs,
    VolatilityRegime,
    VolSurface,
)

if TYPE_CHECKING:
    from hedgeframe.data import MarketDataStore

__all__ = [
    "CALIBRATION_BOUNDS",
    "DAY_FIT_SCHEMA",
    "MIN_TENOR_DAYS",
    "QUOTE_FIT_SCHEMA",
    "SurfaceCalibration",
    "calibrate_surface",
    "quote_errors",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
DateArray = npt.NDArray[np.datetime64]
DAYS_PER_YEAR: Final = 365.0

MIN_TENOR_DAYS: Final = 7
"""Quotes closer to expiry than this are left out: their volatility is mostly noise."""

CALIBRATION_BOUNDS: Final[dict[str, tuple[float, float]]] = {
    "atm_ratio": (0.5, 1.5),
    "skew": (-20.0, 20.0),
    "long_run_vol": (0.05, 1.0),
    "mean_reversion": (0.05, 20.0),
}
"""The box each fitted parameter stays in (the arbitrage tests cover all of it)."""

QUOTE_FIT_SCHEMA: Final = pl.Schema(
    {
        "as_of_date": pl.Date(),
        "option_type": pl.String(),
        "expiry": pl.Date(),
        "strike": pl.Float64(),
        "spot": pl.Float64(),
        "tau": pl.Float64(),
        "log_moneyness": pl.Float64(),
        "mid": pl.Float64(),
        "market_vol": pl.Float64(),
        "model_vol": pl.Float64(),
        "model_price": pl.Float64(),
        "weight": pl.Float64(),
    }
)
"""One row per quote priced: its market and model volatility and price; ``weight`` is its
vega per unit of spot, ``tau`` years, ``log_moneyness`` ``ln(K / F)``."""

DAY_FIT_SCHEMA: Final = pl.Schema(
    {
        "date": pl.Date(),
        "quotes": pl.Int64(),
        "atm_vol": pl.Float64(),
        "vol_rmse": pl.Float64(),
        "vol_median_abs_error": pl.Float64(),
        "price_median_abs_error_pct": pl.Float64(),
        "flat_price_median_abs_error_pct": pl.Float64(),
    }
)
"""Fit error per calibration day: ``vol_rmse`` is the vega-weighted root mean square
volatility error (what the fit minimises), ``vol_median_abs_error`` the unweighted median
(far wings quoted at a minimum tick have volatilities no smooth smile matches); the price
errors are ``|model - mid| / mid``, with the fitted surface and
with the flat regime of its ATM input alone (e.g. the VIX close for every strike and tenor)."""


@dataclass(frozen=True)
class SurfaceCalibration:
    """What :func:`calibrate_surface` returns.

    ``regime`` is the fitted surface (use it as ``volatility=``); ``parameters`` the fitted
    values by name; ``fit`` the error per day (:data:`DAY_FIT_SCHEMA`); ``quotes`` every
    quote used with its market and model volatility (:data:`QUOTE_FIT_SCHEMA`);
    ``warnings`` what the inputs needed (a carried index close, a fall-back, an optimizer
    that stopped early).
    """

    regime: VolSurface
    parameters: dict[str, float]
    fit: pl.DataFrame
    quotes: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Chain:
    """The quotes of some days as arrays; ``day`` indexes the days, ``frame`` keeps the rest."""

    day: IntArray
    is_call: npt.NDArray[np.bool_]
    strike: FloatArray
    spot: FloatArray
    tau: FloatArray
    log_moneyness: FloatArray
    mid: FloatArray
    market_vol: FloatArray
    weight: FloatArray
    frame: pl.DataFrame


def _history(store: MarketDataStore, symbol: str, end: date) -> tuple[DateArray, FloatArray]:
    bars = store.underlying_bars(symbol, None, end)
    return bars["date"].to_numpy().astype("datetime64[D]"), bars["close"].to_numpy()


def _inputs(
    store: MarketDataStore, symbol: str, days: list[date], regime: VolatilityRegime
) -> VolatilityInputs:
    """Bars and index closes up to the last day; every day must have a bar."""
    dates, closes = _history(store, symbol, days[-1])
    wanted = np.array(days, dtype="datetime64[D]")
    found = np.isin(wanted, dates)
    if not found.all():
        missing = ", ".join(str(d) for d in np.array(days)[~found][:5])
        msg = f"no {symbol} bar on {missing}: quotes are priced against the day's close"
        raise MissingMarketDataError(msg)
    indexes = {s: _history(store, s, days[-1]) for s in regime.index_symbols(symbol)}
    return VolatilityInputs(symbol, wanted, dates, closes, indexes)


def _chain(
    store: MarketDataStore,
    symbol: str,
    inputs: VolatilityInputs,
    rate: float,
    dividend_yield: float,
) -> _Chain:
    """Read the days' usable, out-of-the-money quotes and invert their mids."""
    first, last = (d.astype("datetime64[D]").item() for d in (inputs.days[0], inputs.days[-1]))
    spots = pl.DataFrame(
        {
            "as_of_date": inputs.days,
            "spot": inputs.history_closes[np.searchsorted(inputs.history_dates, inputs.days)],
            "day": np.arange(inputs.days.size),
        }
    ).with_columns(pl.col("as_of_date").cast(pl.Date))
    tenor = (pl.col("expiry") - pl.col("as_of_date")).dt.total_days()
    frame = (
        store.option_quotes_between(symbol, first, last)
        .join(spots, on="as_of_date", how="inner")
        .filter(
            (pl.col("mid") > 0.0)
            & (pl.col("ask").is_null() | (pl.col("ask") > 0.0))
            & (tenor >= MIN_TENOR_DAYS)
        )
        .with_columns(tau=tenor / DAYS_PER_YEAR)
        .with_columns(
            log_moneyness=(pl.col("strike") / pl.col("spot")).log()
            - (rate - dividend_yield) * pl.col("tau")
        )
        .filter((pl.col("option_type") == "call") == (pl.col("log_moneyness") >= 0.0))
    )
    is_call = (frame["option_type"] == "call").to_numpy()
    strike, spot, tau, mid = (frame[c].to_numpy() for c in ("strike", "spot", "tau", "mid"))
    market_vol = implied_volatility(is_call, spot, strike, tau, mid, rate, dividend_yield)
    keep = ~np.isnan(market_vol)
    weight = black_scholes_vega(spot, strike, tau, np.where(keep, market_vol, 0.1)) / spot
    take = np.flatnonzero(keep)
    return _Chain(
        frame["day"].to_numpy().astype(np.int64)[take],
        is_call[take],
        strike[take],
        spot[take],
        tau[take],
        frame["log_moneyness"].to_numpy()[take],
        mid[take],
        market_vol[take],
        weight[take],
        frame[take].select("as_of_date", "option_type", "expiry", "strike", "spot", "tau"),
    )


def _volatility(
    regime: VolatilityRegime, inputs: VolatilityInputs, warnings: list[str]
) -> SurfaceDays | FloatArray:
    surface = regime.surface(inputs, warnings)
    return surface if surface is not None else regime.sigmas(inputs, warnings)


def _priced(
    chain: _Chain, volatility: SurfaceDays | FloatArray, rate: float, dividend_yield: float
) -> pl.DataFrame:
    """Every quote of ``chain`` with its model volatility and price (:data:`QUOTE_FIT_SCHEMA`)."""
    if isinstance(volatility, SurfaceDays):
        model_vol = volatility.sigma(chain.day, chain.log_moneyness, chain.tau)
    else:
        model_vol = volatility[chain.day]
    price = black_scholes_price_is_call(
        chain.is_call, chain.spot, chain.strike, chain.tau, model_vol, rate, dividend_yield
    )
    return chain.frame.with_columns(
        log_moneyness=chain.log_moneyness,
        mid=chain.mid,
        market_vol=chain.market_vol,
        model_vol=model_vol,
        model_price=price,
        weight=chain.weight,
    ).select(QUOTE_FIT_SCHEMA.names())


def quote_errors(
    store: MarketDataStore,
    symbol: str,
    days: Sequence[date],
    regime: VolatilityRegime,
    *,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
) -> pl.DataFrame:
    """Price a stored chain's quotes with a volatility regime, beside their mids.

    The quotes are those a calibration would use (module docstring), so a surface fitted
    on some days can be checked on later ones: compare ``model_price`` with ``mid``.

    Parameters
    ----------
    store
        Holds the underlying's bars, its option quotes and any index the regime reads.
    symbol
        The underlying.
    days
        Quote dates to price; each needs a bar.
    regime
        Any volatility regime, e.g. a fitted :class:`VolSurface` or ``IndexVol("^VIX")``.
    rate, dividend_yield
        Continuously compounded, for the forward and the prices.

    Returns
    -------
    pl.DataFrame
        One row per quote, in :data:`QUOTE_FIT_SCHEMA`.

    Raises
    ------
    BadInputError
        If ``days`` is empty.
    MissingMarketDataError
        If a day has no bar, or the regime's index has no close on or before a day.
    """
    wanted = _days(days)
    inputs = _inputs(store, symbol, wanted, regime)
    chain = _chain(store, symbol, inputs, rate, dividend_yield)
    return _priced(chain, _volatility(regime, inputs, []), rate, dividend_yield)


def _days(days: Sequence[date]) -> list[date]:
    wanted = sorted(set(days))
    if not wanted:
        msg = "calibrate_surface needs at least one day of quotes (days is empty)"
        raise BadInputError(msg)
    return wanted


def _fitted_names(surface: VolSurface) -> list[str]:
    names = ["atm_ratio", "skew"]
    if surface.long_run_vol is not None:
        names += ["long_run_vol", "mean_reversion"]
    return names


def _day_fit(
    quotes: pl.DataFrame, flat: pl.DataFrame, days: list[date], atm: FloatArray
) -> pl.DataFrame:
    """Return the error of each day (:data:`DAY_FIT_SCHEMA`); a day without quotes: nulls."""
    error = pl.col("model_vol") - pl.col("market_vol")
    weighted = (pl.col("weight") ** 2 * error**2).sum() / (pl.col("weight") ** 2).sum()
    relative = ((pl.col("model_price") - pl.col("mid")).abs() / pl.col("mid")).median()
    per_day = quotes.group_by("as_of_date").agg(
        quotes=pl.len(),
        vol_rmse=weighted.sqrt(),
        vol_median_abs_error=error.abs().median(),
        price_median_abs_error_pct=relative * 100.0,
    )
    flat_day = flat.group_by("as_of_date").agg(flat_price_median_abs_error_pct=relative * 100.0)
    table = pl.DataFrame({"date": days, "atm_vol": atm}).with_columns(pl.col("date").cast(pl.Date))
    return (
        table.join(per_day.rename({"as_of_date": "date"}), on="date", how="left")
        .join(flat_day.rename({"as_of_date": "date"}), on="date", how="left")
        .with_columns(pl.col("quotes").fill_null(0))
        .select(DAY_FIT_SCHEMA.names())
        .cast(DAY_FIT_SCHEMA)
    )


def calibrate_surface(
    store: MarketDataStore,
    symbol: str,
    days: Sequence[date],
    *,
    rate: float = 0.0,
    dividend_yield: float = 0.0,
    surface: VolSurface | None = None,
) -> SurfaceCalibration:
    """Fit a volatility surface's parameters to the stored chain of some days.

    ``atm_ratio`` and ``skew`` always; ``long_run_vol`` and ``mean_reversion`` too when the
    surface extrapolates from one index. The objective, the quotes used and the point-in-
    time rule are in this module's docstring; ``docs/volatility.md`` works an example.

    Parameters
    ----------
    store
        Holds the underlying's bars, its option quotes and the surface's indexes.
    symbol
        The underlying whose chain is fitted.
    days
        The quote dates to fit (each needs a bar); the result reads nothing dated after
        the last of them.
    rate, dividend_yield
        Continuously compounded; the forward is ``S e^{(rate - dividend_yield) tau}``.
    surface
        The surface whose structure (ATM regime, tenors) is kept and whose parameters
        start the fit; default ``VolSurface()`` (the asset's own volatility index at 30
        days, reverting to the long run).

    Returns
    -------
    SurfaceCalibration
        The fitted regime, its parameters, the error per day and per quote.

    Raises
    ------
    BadInputError
        If ``days`` is empty.
    MissingMarketDataError
        If a day has no bar, an index has no close on or before a day, or the days have
        no usable out-of-the-money quote.
    """
    start = surface if surface is not None else VolSurface()
    wanted = _days(days)
    warnings: list[str] = []
    inputs = _inputs(store, symbol, wanted, start)
    chain = _chain(store, symbol, inputs, rate, dividend_yield)
    if chain.day.size == 0:
        msg = (
            f"no usable out-of-the-money {symbol} quote with {MIN_TENOR_DAYS}+ days to expiry "
            f"on the {len(wanted)} calibration day(s) {wanted[0]}..{wanted[-1]}"
        )
        raise MissingMarketDataError(msg)
    levels = start.levels(inputs, warnings)
    names = _fitted_names(start)
    low, high = (np.array([CALIBRATION_BOUNDS[n][side] for n in names]) for side in (0, 1))
    first = np.clip([float(getattr(start, n)) for n in names], low, high)

    def surface_days(values: FloatArray) -> SurfaceDays:
        trial = start.model_copy(update=dict(zip(names, values.tolist(), strict=True)))
        term, _ = trial.term_structure(levels)
        return SurfaceDays.of(term, trial.skew)

    def residuals(values: FloatArray) -> FloatArray:
        model = surface_days(values).sigma(chain.day, chain.log_moneyness, chain.tau)
        result: FloatArray = chain.weight * (model - chain.market_vol)
        return result

    # Imported on first use: scipy.optimize alone takes longer than `import hedgeframe`.
    from scipy.optimize import least_squares

    solution = least_squares(residuals, first, bounds=(low, high), method="trf")
    if not solution.success:
        warnings.append(f"the fit stopped before converging: {solution.message}")
    parameters = dict(zip(names, (float(v) for v in solution.x), strict=True))
    regime = VolSurface.model_validate({**start.model_dump(), **parameters})
    fitted = surface_days(solution.x)
    flat: FlatVolatilityRegime = start.atm
    quotes = _priced(chain, fitted, rate, dividend_yield)
    flat_quotes = _priced(chain, flat.sigmas(inputs, []), rate, dividend_yield)
    fit = _day_fit(quotes, flat_quotes, wanted, fitted.reference)
    return SurfaceCalibration(regime, parameters, fit, quotes, warnings)
