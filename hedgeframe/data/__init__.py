"""Market data: the Parquet store, row validation, trading calendars and ingestion.

Everything a backtest reads about markets passes through here: frames are validated
once, by one set of rules, on the way into :class:`MarketDataStore`; calendars answer
session questions from sorted arrays; readers turn yfinance downloads and CSV files
(including CBOE DataShop end-of-day files) into store-schema frames.
"""

from __future__ import annotations

from hedgeframe.data._calendar import (
    NotASessionError,
    SessionOutOfBoundsError,
    TradingCalendar,
    get_calendar,
)
from hedgeframe.data._csv import (
    QUARANTINE_SCHEMA,
    CsvImport,
    read_bars_csv,
    read_cboe_chain_csv,
    read_chain_csv,
)
from hedgeframe.data._schemas import (
    DEFAULT_SOURCE,
    OPTION_QUOTE_KEY,
    OPTION_QUOTE_REQUIRED,
    OPTION_QUOTE_SCHEMA,
    OPTION_TYPES,
    UNDERLYING_BAR_KEY,
    UNDERLYING_BAR_REQUIRED,
    UNDERLYING_BAR_SCHEMA,
)
from hedgeframe.data._store import MarketDataStore, decode_symbol, encode_symbol
from hedgeframe.data._synthetic_chain import (
    SYNTHETIC_CHAIN_SOURCE,
    build_synthetic_chain,
    monthly_expiries,
    write_synthetic_chain,
)
from hedgeframe.data._validation import (
    FAILURE_SCHEMA,
    validate_option_quotes,
    validate_underlying_bars,
)
from hedgeframe.data._yfinance import BarDownloader, fetch_yfinance_bars, yfinance_download

__all__ = [
    "DEFAULT_SOURCE",
    "FAILURE_SCHEMA",
    "OPTION_QUOTE_KEY",
    "OPTION_QUOTE_REQUIRED",
    "OPTION_QUOTE_SCHEMA",
    "OPTION_TYPES",
    "QUARANTINE_SCHEMA",
    "SYNTHETIC_CHAIN_SOURCE",
    "UNDERLYING_BAR_KEY",
    "UNDERLYING_BAR_REQUIRED",
    "UNDERLYING_BAR_SCHEMA",
    "BarDownloader",
    "CsvImport",
    "MarketDataStore",
    "NotASessionError",
    "SessionOutOfBoundsError",
    "TradingCalendar",
    "build_synthetic_chain",
    "decode_symbol",
    "encode_symbol",
    "fetch_yfinance_bars",
    "get_calendar",
    "monthly_expiries",
    "read_bars_csv",
    "read_cboe_chain_csv",
    "read_chain_csv",
    "validate_option_quotes",
    "validate_underlying_bars",
    "write_synthetic_chain",
    "yfinance_download",
]
