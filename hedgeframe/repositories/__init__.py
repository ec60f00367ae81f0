"""File-backed repositories: templates, event presets and backtest runs under ``data/``.

Every file is JSON in one envelope (``format``, ``format_version``, ``records``), written
atomically under an inter-process lock; a corrupt file raises
:class:`~hedgeframe.errors.CorruptFileError` and is never overwritten.
"""

from hedgeframe.repositories._events import EventPresetRepository
from hedgeframe.repositories._json_collection import DuplicateRecordError, JsonCollection
from hedgeframe.repositories._runs import (
    InvalidRunIdError,
    InvalidRunTransitionError,
    RunRepository,
)
from hedgeframe.repositories._templates import TemplateRepository

__all__ = [
    "DuplicateRecordError",
    "EventPresetRepository",
    "InvalidRunIdError",
    "InvalidRunTransitionError",
    "JsonCollection",
    "RunRepository",
    "TemplateRepository",
]
