"""Reading a bundle record by record: from a file, a network stream, bytes, or an already parsed dict.

The JSON is parsed incrementally with ijson (its C backend, yajl2_c, where installed), so a
bundle of any size is read in constant memory: the fields before the lists come whole, each
list record by record. Nesting is bounded (``MAX_DEPTH``): JSON nested 100,000 deep is
refused with one line instead of exhausting the parser's stack.

Items come as tuples:

* ``("field", name, value)`` — a top-level field that is not one of the lists;
* ``("start", section, None)`` — a list begins;
* ``("record", section, value)`` — one record of that list, in order.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import ijson

from ...errors import ValidationError
from .schema import MAX_DEPTH, SECTIONS

Item = tuple[str, str, Any]

_SCALARS = frozenset(("string", "number", "boolean", "null"))


def _too_deep(where: str) -> ValidationError:
    return ValidationError(where, f"nested deeper than {MAX_DEPTH} levels: not a bundle")


def _not_json(source: str, exc: Exception) -> ValidationError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ValidationError("$", f"{source} is not JSON: {message}")


def _value(
    events: Iterator[tuple[str, Any]], event: str, value: Any, depth: int, where: str
) -> Any:
    """The JSON value that starts with ``event``, built from the events that follow it."""
    if event in _SCALARS:
        return value
    if depth > MAX_DEPTH:
        raise _too_deep(where)
    root: Any = {} if event == "start_map" else []
    stack: list[Any] = [root]
    key: str | None = None
    for event, value in events:
        top = stack[-1]
        if event == "map_key":
            key = value
            continue
        if event in _SCALARS:
            item = value
        elif event == "start_map" or event == "start_array":
            if depth + len(stack) > MAX_DEPTH:
                raise _too_deep(where)
            item = {} if event == "start_map" else []
        else:  # end_map / end_array
            stack.pop()
            if not stack:
                return root
            continue
        if type(top) is dict:
            top[key] = item
        else:
            top.append(item)
        if type(item) is dict or type(item) is list:
            stack.append(item)
    raise ValidationError(where, "the bundle ends in the middle of a value")


def _events(stream: IO[bytes], source: str) -> Iterator[tuple[str, Any]]:
    try:
        yield from ijson.basic_parse(stream, use_float=True)
    except ijson.JSONError as exc:
        raise _not_json(source, exc) from None
    except UnicodeDecodeError:
        raise ValidationError("$", f"{source} is not UTF-8 text") from None


def _stream_items(stream: IO[bytes], source: str) -> Iterator[Item]:
    events = _events(stream, source)
    first = next(events, None)
    if first is None:
        raise ValidationError("$", f"{source} is empty: not a bundle")
    if first[0] != "start_map":
        raise ValidationError("$", "a bundle is a JSON object")
    for event, key in events:
        if event == "end_map":
            break
        event, value = next(events)
        if key in SECTIONS and event == "start_array":
            yield ("start", key, None)
            for event, value in events:
                if event == "end_array":
                    break
                yield ("record", key, _value(events, event, value, 3, f"$.{key}"))
        else:
            yield ("field", key, _value(events, event, value, 2, f"$.{key}"))
    for _ in events:
        raise ValidationError("$", f"{source} is not JSON: text after the bundle's end")


def _dict_items(bundle: Any) -> Iterator[Item]:
    if not isinstance(bundle, dict):
        raise ValidationError("$", "a bundle is a JSON object")
    for key, value in bundle.items():
        if key in SECTIONS and isinstance(value, list):
            yield ("start", key, None)
            for record in value:
                yield ("record", key, record)
        else:
            yield ("field", key, value)


# A UTF-16 surrogate escape that is not half of a pair: the C parser would turn it into "?"
# silently, so the raw text is checked as it streams past.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)
_KEEP = 18  # bytes held back so that a pair split between two reads is seen whole


class _Guard(io.RawIOBase):
    """A binary stream read through: lone surrogate escapes refused, progress reported."""

    def __init__(self, stream: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self._stream = stream
        self._progress = progress
        self._tail = b""
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer)) or b""
        window = self._tail + data
        start = self._offset - len(self._tail)  # where the window starts in the stream
        if b"\\u" in window:
            for match in _LONE_SURROGATE.finditer(window):
                # Judged only with its neighbours in view; otherwise the next window sees it.
                if (match.start() >= 6 or start == 0) and (
                    not data or match.end() + 6 <= len(window)
                ):
                    raise ValidationError(
                        "$",
                        f"contains a lone UTF-16 surrogate ({match.group(0).decode()}) at byte "
                        f"{start + match.start()}: not text",
                    )
        self._tail = window[-_KEEP:]
        self._offset += len(data)
        buffer[: len(data)] = data
        if self._progress is not None and data:
            self._progress(len(data))
        return len(data)


def items(
    source: Any, *, name: str = "bundle", progress: Callable[[int], None] | None = None
) -> Iterator[Item]:
    """The bundle's items, from a dict, ``bytes``/``str`` or a binary stream (e.g. an open file)."""
    if isinstance(source, dict):
        return _dict_items(source)
    if isinstance(source, str):
        try:
            source = source.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("$", f"{name} is not UTF-8 text") from None
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    if not hasattr(source, "read"):
        raise ValidationError("$", "a bundle is a JSON object")
    return _stream_items(io.BufferedReader(_Guard(source, progress), 64 * 1024), name)


def loads(text: str | bytes, *, source: str = "bundle") -> dict[str, Any]:
    """Parse bundle text into a dict (nesting bounded); a file that is not JSON is refused."""
    bundle: dict[str, Any] = {}
    for kind, key, value in items(text, name=source):
        if kind == "start":
            bundle[key] = []
        elif kind == "record":
            bundle[key].append(value)
        else:
            bundle[key] = value
    return bundle
