"""The built-in selloff presets (SPEC section 8): manual windows, fixed ids and timestamps."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Final

from hedgeframe.models import (
    EventPreset,
    EventScenarioOverrides,
    EventType,
)

_PRESET_NAMESPACE: Final = uuid.UUID("3b0f6d1e-8c4a-4f55-9e2b-7a61c0d9e5f3")
PRESETS_TIMESTAMP: Final = datetime(2026, 11, 25, tzinfo=UTC)
"""``created_at`` of every built-in preset (fixed, so presets compare equal across calls)."""

BUNDLED_SAMPLE_TAG: Final = "bundled-sample"
"""Tag of the built-in presets whose data ship in the bundled sample store."""
NEEDS_FETCH_TAG: Final = "needs-fetch"
"""Tag of the built-in presets that need fetched data (``hedgeframe data fetch``)."""


def _preset(
    slug: str,
    display_name: str,
    symbol: str,
    window: tuple[date, date],
    anchor: date,
    tags: list[str],
    description: str,
    recovery_days: int,
) -> EventPreset:
    return EventPreset(
        event_preset_id=str(uuid.uuid5(_PRESET_NAMESPACE, slug)),
        slug=slug,
        display_name=display_name,
        symbol=symbol,
        window_start=window[0],
        window_end=window[1],
        anchor_date=anchor,
        event_type=EventType.SELLOFF,
        tags=tags,
        description=description,
        scenario_overrides=EventScenarioOverrides(recovery_days=recovery_days),
        created_at=PRESETS_TIMESTAMP,
    )


def builtin_event_presets() -> list[EventPreset]:
    """Return the named selloff windows of SPEC section 8, oldest first.

    Windows run from the closing high before each selloff to its closing low (manual
    dates, no peak/trough detection), with a recovery tail of 90 or 180 calendar days.
    Seven lie inside the bundled sample (tag ``bundled-sample``); three need fetched data
    (tag ``needs-fetch``). Ids are ``uuid5`` of the slug and ``created_at`` is fixed, so
    every call gives equal presets.

    Examples
    --------
    >>> [p.slug for p in builtin_event_presets() if "bundled-sample" in p.tags][:3]
    ['dotcom-2000-2002', 'gfc-2007-2009', 'flash-crash-2010']
    """
    sample, fetch = BUNDLED_SAMPLE_TAG, NEEDS_FETCH_TAG
    presets = [
        _preset(
            "dotcom-2000-2002",
            "Dot-com bust 2000-2002",
            "^GSPC",
            (date(2000, 3, 24), date(2002, 10, 9)),
            date(2001, 9, 17),
            ["equity", "bear-market", "valuation", sample],
            "S&P 500 from its March 2000 closing high (1,527) to the October 2002 low (777): "
            "a 31-month grind, -49 %, with 9/11 in the middle (anchor: the reopening).",
            180,
        ),
        _preset(
            "gfc-2007-2009",
            "Global financial crisis 2007-2009",
            "^GSPC",
            (date(2007, 10, 9), date(2009, 3, 9)),
            date(2008, 9, 15),
            ["equity", "bear-market", "credit", "liquidity", sample],
            "S&P 500 from its October 2007 closing high (1,565) to the March 2009 low (677), "
            "-57 %; anchor: the Lehman bankruptcy.",
            180,
        ),
        _preset(
            "flash-crash-2010",
            "May 2010 flash crash",
            "^GSPC",
            (date(2010, 4, 23), date(2010, 7, 2)),
            date(2010, 5, 6),
            ["equity", "correction", "liquidity", "euro-crisis", sample],
            "S&P 500 from the April 2010 high (1,217) through the 6 May flash crash and the "
            "euro-area debt scare to the July low (1,023), -16 %.",
            90,
        ),
        _preset(
            "us-downgrade-2011",
            "August 2011 US downgrade",
            "^GSPC",
            (date(2011, 7, 7), date(2011, 10, 3)),
            date(2011, 8, 8),
            ["equity", "correction", "sovereign", "vol-spike", sample],
            "S&P 500 from the July 2011 high (1,353) to the October low (1,099), -19 %; "
            "anchor: the first session after S&P cut the US rating (-6.7 % that day).",
            90,
        ),
        _preset(
            "china-deval-2015",
            "August 2015 China devaluation",
            "^GSPC",
            (date(2015, 7, 20), date(2015, 8, 25)),
            date(2015, 8, 24),
            ["equity", "correction", "vol-spike", "emerging-markets", sample],
            "S&P 500 from the July 2015 high (2,128) to the 25 August low (1,868), -12 %, "
            "after the yuan devaluation; anchor: the 24 August open-gap Monday.",
            90,
        ),
        _preset(
            "volmageddon-2018",
            "February 2018 volatility shock",
            "^GSPC",
            (date(2018, 1, 26), date(2018, 2, 8)),
            date(2018, 2, 5),
            ["equity", "correction", "vol-spike", sample],
            "S&P 500 from the January 2018 high (2,873) to the 8 February low (2,581), -10 % "
            "in nine sessions; anchor: 5 February, when short-volatility products collapsed.",
            90,
        ),
        _preset(
            "q4-2018",
            "Q4 2018 selloff",
            "^GSPC",
            (date(2018, 9, 20), date(2018, 12, 24)),
            date(2018, 12, 24),
            ["equity", "correction", "rates", sample],
            "S&P 500 from the September 2018 high (2,931) to the Christmas Eve low (2,351), "
            "-20 %, on Fed tightening and trade-war fears. The bundled sample ends "
            "2018-12-31, so its recovery tail needs fetched data.",
            90,
        ),
        _preset(
            "gold-crash-2013",
            "April 2013 gold crash",
            "GLD",
            (date(2013, 4, 1), date(2013, 6, 27)),
            date(2013, 4, 15),
            ["gold", "commodity", "crash", fetch],
            "SPDR Gold Shares (GLD) from early April 2013 through the two-day crash of 12 and "
            "15 April (gold -13 %) to the June low, about -26 %. Needs GLD bars: "
            "`hedgeframe data fetch GLD --start 2012-01-01 --end 2013-12-31`.",
            90,
        ),
        _preset(
            "covid-crash-2020",
            "COVID-19 crash 2020",
            "^GSPC",
            (date(2020, 2, 19), date(2020, 3, 23)),
            date(2020, 3, 16),
            ["equity", "crash", "pandemic", "vol-spike", fetch],
            "S&P 500 from the 19 February 2020 high (3,386) to the 23 March low (2,237), "
            "-34 % in 23 sessions; anchor: 16 March (-12 %, VIX close 82.7). Needs "
            "fetched ^GSPC (and ^VIX) bars.",
            90,
        ),
        _preset(
            "rate-shock-2022",
            "2022 rate shock",
            "^GSPC",
            (date(2022, 1, 3), date(2022, 10, 12)),
            date(2022, 6, 13),
            ["equity", "bear-market", "rates", "inflation", fetch],
            "S&P 500 from the January 2022 high (4,797) to the October low (3,577), -25 %, "
            "as the Fed raised rates fastest in decades; anchor: the 13 June CPI shock. "
            "Needs fetched ^GSPC (and ^VIX) bars.",
            180,
        ),
    ]
    return sorted(presets, key=lambda p: (p.window_start, p.slug))
