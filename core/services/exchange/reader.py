"""Reading a bundle record by record: from a file, a network stream, bytes, or an already parsed dict.

The text is read a block at a time and each record is decoded on its own by the standard
library's JSON decoder (its C scanner), so a bundle of any size is read in memory
proportional to one record, at the speed of ``json.loads``. JSON nested deeper than the
decoder can follow is refused with one line (never a RecursionError); the schema bounds
what a known field may hold.

Items come as tuples:

* ``("field", name, value)`` — a top-level field that is not one of the lists;
* ``("start", section, None)`` — a list begins;
* ``("record", section, value)`` — one record of that list, in order.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterator
from typing import IO, Any

import orjson

from ...errors import ValidationError
from .schema import SECTIONS

Item = tuple[str, str, Any]

BLOCK = 1 << 20
#: A single record larger than this is refused (the largest real ones are a few KiB).
MAX_RECORD = 64 << 20
_WHITESPACE = " \t\n\r"
#: The longest token a block's end can cut without the decoder noticing at the very end:
#: ``false`` or a ``\uXXXX`` escape.
_CUT = 8
_decode = json.JSONDecoder().raw_decode
#: A list's separator: the comma between two records and the whitespace around it.
_COMMA = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")
#: How many characters of whole lines are decoded at once (their records are held together).
_MANY = 256 * 1024


class _Text:
    """Text read from a binary stream a block at a time, decoded as UTF-8."""

    def __init__(self, stream: IO[bytes], source: str, progress: Callable[[int], None] | None):
        self.stream = stream
        self.source = source
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buffer = ""
        self.pos = 0
        self.eof = False
        self.consumed = 0  # characters before the buffer, for messages

    def more(self) -> bool:
        if self.eof:
            return False
        data = self.stream.read(BLOCK) or b""
        if self.progress is not None and data:
            self.progress(len(data))
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise ValidationError("$", f"{self.source} is not UTF-8 text") from None
        if not data:
            self.eof = True
        self.consumed += self.pos
        self.buffer = self.buffer[self.pos :] + text
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not whitespace ('' at the end)."""
        while True:
            buffer, pos = self.buffer, self.pos
            while pos < len(buffer) and buffer[pos] in _WHITESPACE:
                pos += 1
            self.pos = pos
            if pos < len(buffer):
                return buffer[pos]
            if not self.more():
                return ""

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = self.peek() or "the end of the file"
            raise self.error(f"expected {what}, found {found!r}")
        self.pos += 1

    def error(self, message: str) -> ValidationError:
        return ValidationError(
            "$", f"{self.source} is not JSON: {message} (character {self.consumed + self.pos})"
        )

    def records(self, where: str) -> Iterator[Any]:
        """The values of the list that starts here (its ``[`` read), up to and with its ``]``.

        The fast paths decode a record and step over the comma after it within the block:
        first a whole line ending in a comma (how an export writes its records) by orjson,
        then by the standard library's decoder. Anything orjson does not take (another
        layout, a number beyond 64 bits, a lone surrogate, invalid JSON) is decoded by the
        standard library, as every record once was, so both read the same values and refuse
        the same text; a record cut by the block's end, or the list's end, take the careful
        path.
        """
        if self.peek() == "]":
            self.pos += 1
            return
        comma = _COMMA.match
        loads, invalid = orjson.loads, orjson.JSONDecodeError
        retry_after = -1  # (counted from the text's start) the line path reads up to there
        while True:
            buffer, pos = self.buffer, self.pos
            if self.consumed + pos > retry_after:
                values, end = self._lines(buffer, pos)
                if values is None:
                    retry_after = self.consumed + end
                else:
                    self.pos = end
                    self.peek()  # (within the block)
                    yield from values
                    continue
            newline = buffer.find("\n", pos)
            if newline > pos and buffer[newline - 1] == ",":
                try:
                    value = loads(buffer[pos : newline - 1])
                except invalid:
                    pass
                else:
                    if newline + 1 < len(buffer):
                        self.pos = newline + 1
                        self.peek()  # (within the block)
                        yield value
                        continue
            try:
                value, end = _decode(buffer, pos)
            except (json.JSONDecodeError, RecursionError):
                value = self.value(where)  # cut off at the block's end, or not JSON
            else:
                after = comma(buffer, end)
                if after is not None and after.end() < len(buffer):
                    self.pos = after.end()
                    yield value
                    continue
                if end == len(buffer):
                    value = self.value(where)  # a number may go on in the next block
                else:
                    self.pos = end
            yield value
            if self.peek() == ",":
                self.pos += 1
                self.peek()  # the next record's start, where the fast path decodes
                continue
            self.expect("]", f"',' or ']' in {where}")
            return

    @staticmethod
    def _lines(buffer: str, pos: int) -> tuple[list[Any] | None, int]:
        """The records from ``pos`` up to the last comma that ends a line before a ``{`` (up to
        ``_MANY`` characters, within the block; how an export writes its records), decoded by
        one call to orjson, and where the next record begins; or None and the position before
        which this is not worth trying again (no such lines, or orjson does not take them: the
        record-by-record path reads them).

        The text from ``pos`` to such a comma, put in brackets, is a JSON array of exactly the
        records it holds, or no JSON at all: a comma inside a record would leave a bracket
        open.
        """
        cut = buffer.rfind(",\n{", pos, pos + _MANY)  # where a record begins on a new line
        if cut <= pos or cut + 2 >= len(buffer):
            # (e.g. a bundle on one line: one search per stretch, or the block's last record)
            return None, min(pos + _MANY, len(buffer))
        try:
            return orjson.loads("[" + buffer[pos:cut] + "]"), cut + 2
        except orjson.JSONDecodeError as exc:
            failed = pos + exc.pos - 1  # e.g. where the list ends within the lines (``}],``)
        before = buffer.rfind(",\n{", pos, failed)
        if before > pos:
            try:
                return orjson.loads("[" + buffer[pos:before] + "]"), before + 2
            except orjson.JSONDecodeError:
                pass
        return None, failed

    def value(self, where: str) -> Any:
        """Decode the JSON value that starts here."""
        self.peek()
        while True:
            try:
                value, end = _decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                # Cut off at the end of the block: read on and try again. The decoder names
                # the start of a cut literal (``tr|ue``: "Expecting value" at the t) or
                # escape, so an error within the last few characters may be a cut too.
                cut = len(self.buffer) - exc.pos <= _CUT or exc.msg.startswith("Unterminated")
                if cut and len(self.buffer) - self.pos <= MAX_RECORD and self.more():
                    continue
                if len(self.buffer) - self.pos > MAX_RECORD:
                    raise ValidationError(
                        where, f"a record larger than {MAX_RECORD >> 20} MiB: not a bundle"
                    ) from None
                raise ValidationError(
                    "$",
                    f"{self.source} is not JSON: {exc.msg} (character {self.consumed + exc.pos})",
                ) from None
            except RecursionError:
                raise ValidationError(where, "nested too deep: not a bundle") from None
            if end == len(self.buffer) and not self.eof and self.more():
                continue  # a number at the block's end may go on in the next one
            self.pos = end
            return value


def _stream_items(text: _Text) -> Iterator[Item]:
    if text.peek() == "":
        raise ValidationError("$", f"{text.source} is empty: not a bundle")
    if text.peek() != "{":
        raise ValidationError("$", "a bundle is a JSON object")
    text.pos += 1
    if text.peek() == "}":
        text.pos += 1
    else:
        while True:
            if text.peek() != '"':
                raise text.error("expected a field name")
            key = text.value("$")
            text.expect(":", "':'")
            if key in SECTIONS and text.peek() == "[":
                text.pos += 1
                yield ("start", key, None)
                for record in text.records(f"$.{key}"):
                    yield ("record", key, record)
            else:
                yield ("field", key, text.value(f"$.{key}"))
            if text.peek() == ",":
                text.pos += 1
                continue
            text.expect("}", "',' or '}'")
            break
    if text.peek() != "":
        raise text.error("text after the bundle's end")


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


class Items:
    """Items already read (e.g. a peer's copy merged with its changes), taken as they come."""

    def __init__(self, items: Iterator[Item]) -> None:
        self.items = items


def items(
    source: Any, *, name: str = "bundle", progress: Callable[[int], None] | None = None
) -> Iterator[Item]:
    """The bundle's items, from a dict, ``bytes``/``str``, a binary stream (e.g. an open
    file) or ``Items``."""
    if isinstance(source, Items):
        return source.items
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
    return _stream_items(_Text(source, name, progress))


def loads(text: str | bytes | IO[bytes], *, source: str = "bundle") -> dict[str, Any]:
    """Parse bundle text (or a binary stream) into a dict (nesting bounded); a file that is not
    JSON is refused."""
    bundle: dict[str, Any] = {}
    for kind, key, value in items(text, name=source):
        if kind == "start":
            bundle[key] = []
        elif kind == "record":
            bundle[key].append(value)
        else:
            bundle[key] = value
    return bundle
