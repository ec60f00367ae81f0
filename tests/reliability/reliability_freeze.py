"""Imported last by the reliability suite's fork server, never by a test: warm, then freeze.

It builds the XNYS calendar once (every child that runs a backtest needs it), then
``gc.freeze()`` moves every object the server holds (pytest, polars, hedgeframe) out of
the garbage collector's reach, so a forked child's collections do not touch, and so copy,
the pages it shares with the server. Child start-up stays in the tens of milliseconds.
"""

import gc

import hedgeframe

hedgeframe.get_calendar("XNYS")
gc.freeze()
