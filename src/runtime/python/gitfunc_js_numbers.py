"""Floats written as DataFlux Func's server writes them: JavaScript's number format.

DFF's server is Node: a result passes through `JSON.parse` and is written again, so `30.0`
reaches the caller as `30`, `1e16` as `10000000000000000`, `1e-05` as `0.00001`, `-0.0` as
`0`, and NaN or an infinity as `null` (DFF's worker already dumps them as null). Python's
`repr` and JavaScript's `Number#toString` both give the shortest digits that read back as the
same float; they differ only in `.0`, the sign of zero, and where the exponent starts and how
it is written.

JSON is dumped by the stdlib's C encoder, which has no hook for floats. Most results hold no
float and pay one dump plus a scan of its text for a float's marks. A result that holds
floats is walked once: whole floats become ints and NaN or infinities None, which the C
encoder then writes as JavaScript would; every other float of usual size is written the same
by both. Only a float below 1e-4 (Python writes `1e-05`) makes the dumped text be rewritten
token by token.
"""

import json
import re

_SEPARATORS = (",", ":")
# A finite float's repr always has a point or an exponent followed by a digit; each pattern
# starts with a literal, which the regex engine finds fast (a character class would not be).
_POINT = re.compile(r"\.\d").search
_EXPONENT_DOWN = re.compile(r"e-\d").search
_EXPONENT_UP = re.compile(r"e\+\d").search
# A JSON string (kept), or a float token outside strings (rewritten). Integers never match.
_STRING_OR_FLOAT = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|(-?\d+(?:\.\d+)?e[+-]?\d+|-?\d+\.\d+|NaN|-?Infinity)')
_NON_FINITE = frozenset(("nan", "inf", "-inf"))
_SAFE_INT = 2.0**53
_PLAIN_FROM = 1e-4  # Python writes a smaller float with an exponent, JavaScript down to 1e-6
_PLAIN_UNTIL = 1e21  # JavaScript writes a float this large with an exponent, as Python does


def js_float(value):
    """`value` (a float) as JavaScript writes it; None for NaN and the infinities."""
    text = float.__repr__(value)
    if text.endswith(".0"):
        return "0" if value == 0 else text[:-2]
    if "e" not in text:
        return None if text in _NON_FINITE else text
    mantissa, exponent = text.split("e")
    exponent = int(exponent)
    if exponent >= 21 or exponent <= -7:
        return "%se%s%d" % (mantissa, "+" if exponent > 0 else "-", abs(exponent))
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "")
    point = exponent + 1  # digits before the decimal point
    if point <= 0:
        return "%s0.%s%s" % (sign, "0" * -point, digits)
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return "%s%s.%s" % (sign, digits[:point], digits[point:])


class _Walk:
    """Copies a result with its floats made into what the C encoder writes as JavaScript would."""

    def __init__(self, default):
        self.default = default
        # A float below 1e-4 was kept: the dumped text needs rewriting.
        self.tiny = False

    def plain(self, value):
        kind = type(value)
        if kind is float:
            return self.number(value)
        if kind is dict:
            return {key: self.plain(item) for key, item in value.items()}
        if kind is list or kind is tuple:
            return [self.plain(item) for item in value]
        if kind is str or kind is int or kind is bool or value is None:
            return value
        # Subclasses (numpy's float64, OrderedDict...), which the encoder writes as their base.
        if isinstance(value, float):
            return self.number(float(value))
        if isinstance(value, dict):
            return {key: self.plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.plain(item) for item in value]
        return value

    def number(self, value):
        if value != value or value in (_INF, -_INF):
            return None
        if value.is_integer():
            if -_SAFE_INT < value < _SAFE_INT:
                return int(value)
            # Past 2**53 JavaScript pads its shortest digits with zeros; those digits as an int.
            return int(js_float(value)) if -_PLAIN_UNTIL < value < _PLAIN_UNTIL else value
        if -_PLAIN_FROM < value < _PLAIN_FROM:
            self.tiny = True
        return value

    def default_plain(self, value):
        """The encoder's `default`, its answer walked too (Decimal gives a float, a set a list)."""
        return self.plain(self.default(value))


_INF = float("inf")


def _rewrite_token(match):
    token = match.group(1)
    if token is None:
        return match.group(0)
    return js_float(float(token)) or "null"


def _may_hold_float(text):
    # The `in` tests first: most texts have no point, and a short one is settled without a regex.
    if "." in text and _POINT(text) is not None:
        return True
    return ("e-" in text or "e+" in text) and (_EXPONENT_DOWN(text) is not None or _EXPONENT_UP(text) is not None)


def dumps(value, default):
    """Compact JSON of `value` (`default` as json.dumps takes it), numbers as DFF's server writes them."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=default, separators=_SEPARATORS, allow_nan=False)
    except ValueError as error:
        if "Out of range float" not in str(error):
            raise
    else:
        if not _may_hold_float(text):
            return text
    walk = _Walk(default)
    text = json.dumps(walk.plain(value), ensure_ascii=False, default=walk.default_plain, separators=_SEPARATORS)
    return _STRING_OR_FLOAT.sub(_rewrite_token, text) if walk.tiny else text
