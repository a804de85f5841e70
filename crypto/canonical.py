"""The one canonical encoding of everything Amanat signs or authenticates.

RFC 8785 (JSON Canonicalization Scheme), restricted to the values Amanat
uses: objects with string keys, arrays, strings, integers, true, false and
null. Floats are refused: their RFC 8785 form needs the ECMAScript number
printer, and nothing signed here needs one. Integers are limited to the range
an IEEE double holds exactly (|n| <= 2**53 - 1), so another implementation in
any language parses them back to the same number.

The rules (docs/PROTOCOL.md section 1 has examples):

- no whitespace anywhere;
- object members sorted by their keys' UTF-16 code units; duplicate keys are
  impossible (a Python dict has none, and parse() refuses them);
- strings as UTF-8, with only these escaped: quotation mark and backslash as
  \\" and \\\\; U+0008, U+0009, U+000A, U+000C, U+000D as \\b \\t \\n \\f \\r;
  every other code point below U+0020 as \\u00xx (lower-case hex). Everything
  else, U+007F and U+2028 included, is written raw. Lone surrogates are refused.
- integers in plain decimal, no leading zeros, no plus sign, "-0" never.

Amanat's version-1 bundles, key files and receipts were written with Python's
json.dumps(sort_keys=True, separators=(",", ":")): for every value they can
hold (ASCII keys, integers; for receipts ASCII values) those bytes are exactly
these, so old signatures verify unchanged (tests/crypto/test_canonical.py).
"""

from __future__ import annotations

import json
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1

_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


class NotCanonicalError(ValueError):
    """A value cannot be encoded canonically, or bytes are not in canonical form."""


def _string(text: str) -> str:
    out = ['"']
    for char in text:
        if char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        elif "\ud800" <= char <= "\udfff":
            raise NotCanonicalError("a string holds a lone surrogate")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _value(value: Any, out: list[str]) -> None:
    if value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise NotCanonicalError("an integer is outside +-(2**53 - 1)")
        out.append(str(int(value)))
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _value(item, out)
        out.append("]")
    elif isinstance(value, dict):
        _object(value, out)
    else:
        raise NotCanonicalError(f"{type(value).__name__} has no canonical form")


def _object(value: dict[Any, Any], out: list[str]) -> None:
    if any(not isinstance(key, str) for key in value):
        raise NotCanonicalError("object keys must be strings")
    out.append("{")
    for i, key in enumerate(sorted(value, key=_utf16_key)):
        if i:
            out.append(",")
        out.append(_string(key))
        out.append(":")
        _value(value[key], out)
    out.append("}")


def encode(value: Any) -> bytes:
    """Return the canonical bytes of value; raise NotCanonicalError if it has none."""
    out: list[str] = []
    _value(value, out)
    return "".join(out).encode("utf-8")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise NotCanonicalError("an object repeats a key")
    return result


def _no_float(text: str) -> Any:
    raise NotCanonicalError("numbers must be integers")


def parse(data: bytes) -> Any:
    """Parse JSON that must already be in canonical form; raise NotCanonicalError otherwise.

    For authenticated plaintext written by version-2 code: bytes that parse
    but are not canonical (spaces, unsorted keys, other escapes) are refused,
    so the same value always has the same bytes.
    """
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except NotCanonicalError:
        raise
    except ValueError as exc:
        raise NotCanonicalError("not valid JSON") from exc
    if encode(value) != data:
        raise NotCanonicalError("the JSON is valid but not in canonical form")
    return value
