"""One JSON file holding a list of records of one model: the repositories' shared mechanism.

Every repository file has the same envelope::

    {"format": "hedgeframe.strategy_templates", "format_version": 1, "records": [...]}

Why an envelope: a file is self-describing (a template file handed to the preset loader is
refused by name, not half-parsed), and ``format_version`` leaves room for a migration.

Guarantees
----------
- **Atomic**: a write goes through :func:`hedgeframe._atomic.atomic_write_bytes` (temporary
  file in the same folder, fsync, rename, folder fsync). A reader therefore sees the old
  file or the new one, never a torn one, so reads need no lock.
- **Serialized**: :meth:`JsonCollection.modify` holds the file's inter-process lock
  (``<file>.lock`` beside it) from the read to the rename, so two processes never lose each
  other's records.
- **Refuse, never repair**: a file that is not valid JSON, has the wrong envelope, holds a
  record that fails validation or lacks a generated id or timestamp (see
  :func:`_generated_fields`), or breaks a collection invariant raises
  :class:`~hedgeframe.errors.CorruptFileError` naming the file and the problem. Every
  write reads and validates first, so a corrupt file is also never overwritten.
- A missing file is an empty collection; reading one creates nothing on disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from hedgeframe._atomic import atomic_write_bytes, file_lock
from hedgeframe.errors import CorruptFileError, DuplicateRecordError

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["FORMAT_VERSION", "DuplicateRecordError", "JsonCollection", "first_duplicate"]

FORMAT_VERSION = 1
"""The envelope version this hedgeframe reads and writes."""

_ENVELOPE_KEYS = frozenset({"format", "format_version", "records"})

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


class _ProblemError(Exception):
    """What is wrong with a file's content; internal, becomes :class:`CorruptFileError`."""


def first_duplicate(
    records: Iterable[M], key: Callable[[M], Hashable]
) -> tuple[int, int, Hashable] | None:
    """Return ``(first_index, second_index, key)`` of the first repeated key, or ``None``.

    Repositories use it for their collection invariants (unique ids, unique slugs).
    """
    seen: dict[Hashable, int] = {}
    for index, record in enumerate(records):
        value = key(record)
        if value in seen:
            return seen[value], index, value
        seen[value] = index
    return None


def _generated_fields(model: type[BaseModel]) -> list[str]:
    """Fields whose default is generated afresh (ids, timestamps), not a constant.

    Such a field is always written, so a record without it was damaged: loading it would
    silently invent a new id or time on every read. Empty containers and nested models
    built by their class are constant defaults and may be absent.
    """
    names = []
    for name, info in model.model_fields.items():
        factory = info.default_factory
        constant = factory in (list, dict) or (
            isinstance(factory, type) and issubclass(factory, BaseModel)
        )
        if factory is not None and not constant:
            names.append(name)
    return names


def _json_type(value: object) -> str:
    """Name a decoded JSON value's type the way JSON does."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


_SHOWN_MESSAGE_CHARS = 300
"""A validator's message may quote the bad value; a multi-megabyte value is cut here."""


def _describe_validation_error(error: ValidationError) -> str:
    """Name the first failing field and its message, and how many more failed."""
    first = error.errors(include_url=False)[0]
    location = ".".join(str(part) for part in first["loc"]) or "(whole record)"
    message = first["msg"]
    if len(message) > _SHOWN_MESSAGE_CHARS:
        message = f"{message[:_SHOWN_MESSAGE_CHARS]}... ({len(message)} characters)"
    detail = f"field {location!r}: {message}"
    more = error.error_count() - 1
    return detail + (f" (and {more} more error(s))" if more else "")


class JsonCollection(Generic[M]):
    """A list of ``model`` records in one JSON file, read lock-free and written atomically.

    Parameters
    ----------
    path
        The JSON file; its folder is created on the first write.
    model
        The pydantic model every record is validated against.
    format_name
        The envelope's ``format`` tag, e.g. ``"hedgeframe.strategy_templates"``.
    check
        Optional collection invariant: returns a description of what is wrong with a list
        of valid records (e.g. a repeated id), or ``None`` when the list is fine.
    """

    def __init__(
        self,
        path: Path,
        model: type[M],
        *,
        format_name: str,
        check: Callable[[list[M]], str | None] | None = None,
    ) -> None:
        self.path = path
        self.model = model
        self.format_name = format_name
        self._check = check

    def load(self) -> list[M]:
        """Return every record, in stored order (empty when the file does not exist).

        Raises
        ------
        CorruptFileError
            When the file cannot be read as this collection.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return self._decode(raw)

    def modify(self, change: Callable[[list[M]], tuple[list[M], R]]) -> R:
        """Apply ``change`` to the stored records under the lock and write the result.

        ``change`` receives the current records and returns ``(new_records, result)``; it
        signals a refusal (duplicate id, unknown key, ...) by raising, and then nothing is
        written. Returning the very list it received also writes nothing (so build a new
        list to change anything). The whole read-change-write runs under the file's lock,
        so writers in other processes are serialized and none is lost. ``change`` must
        not write to this collection itself (the lock is not re-entrant).

        Parameters
        ----------
        change
            Computes the new record list and the value to return.

        Returns
        -------
        R
            The second item ``change`` returned.

        Raises
        ------
        CorruptFileError
            When the stored file is corrupt; it is left byte-for-byte unchanged.
        """
        with file_lock(self.path):
            records = self.load()
            new_records, result = change(records)
            if new_records is records:
                return result
            payload = self._encode(new_records)
            try:
                # What is written must read back: a guard against an invalid record built
                # with model_construct or a broken invariant reaching the disk.
                self._parse(payload)
            except _ProblemError as problem:
                msg = f"refusing to write {self.path}: {problem}; nothing was written"
                raise RuntimeError(msg) from None
            atomic_write_bytes(self.path, payload)
        return result

    def _encode(self, records: list[M]) -> bytes:
        document = {
            "format": self.format_name,
            "format_version": FORMAT_VERSION,
            "records": [record.model_dump(mode="json") for record in records],
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    def _decode(self, raw: bytes) -> list[M]:
        try:
            return self._parse(raw)
        except _ProblemError as problem:
            raise CorruptFileError(self.path, str(problem)) from None

    def _parse(self, raw: bytes) -> list[M]:
        if not raw.strip():
            msg = "the file is empty (expected a JSON object)"
            raise _ProblemError(msg)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            msg = f"not UTF-8 text ({error.reason} at byte {error.start})"
            raise _ProblemError(msg) from None
        try:
            document: Any = json.loads(text)
        except json.JSONDecodeError as error:
            msg = f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})"
            raise _ProblemError(msg) from None
        except (ValueError, RecursionError) as error:
            msg = f"not valid JSON ({error})"
            raise _ProblemError(msg) from None
        records = self._records_of(document)
        generated = _generated_fields(self.model)
        parsed: list[M] = []
        for index, record in enumerate(records):
            absent = [name for name in generated if isinstance(record, dict) and name not in record]
            if absent:
                msg = (
                    f"record {index} has no {absent[0]!r}; a stored record keeps every id "
                    "and timestamp (a default would give it a new one on each load)"
                )
                raise _ProblemError(msg)
            try:
                parsed.append(self.model.model_validate(record))
            except ValidationError as error:
                msg = (
                    f"record {index} is not a valid {self.model.__name__}: "
                    f"{_describe_validation_error(error)}"
                )
                raise _ProblemError(msg) from None
        if self._check is not None and (problem := self._check(parsed)) is not None:
            raise _ProblemError(problem)
        return parsed

    def _records_of(self, document: Any) -> list[Any]:
        """Check the envelope and return its raw ``records`` list."""
        if not isinstance(document, dict):
            msg = (
                f"the top level is a JSON {_json_type(document)}, expected an object "
                "with keys 'format', 'format_version' and 'records'"
            )
            raise _ProblemError(msg)
        keys = set(document)
        if keys != _ENVELOPE_KEYS:
            missing = sorted(_ENVELOPE_KEYS - keys)
            extra = sorted(keys - _ENVELOPE_KEYS)
            msg = f"the top-level keys are wrong (missing {missing}, unexpected {extra})"
            raise _ProblemError(msg)
        if document["format"] != self.format_name:
            msg = f"format is {document['format']!r}, expected {self.format_name!r}"
            raise _ProblemError(msg)
        version = document["format_version"]
        if type(version) is not int or version != FORMAT_VERSION:
            msg = f"format_version {version!r} is not supported (this hedgeframe reads 1)"
            raise _ProblemError(msg)
        records = document["records"]
        if not isinstance(records, list):
            msg = f"'records' is a JSON {_json_type(records)}, expected an array"
            raise _ProblemError(msg)
        return records
