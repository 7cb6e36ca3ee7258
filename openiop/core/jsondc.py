"""Frozen dataclass trees to JSON-safe data and back, driven by the fields' type hints.

``to_json(obj)`` turns a dataclass (or a plain value) into what ``json.dumps`` and a
``JSONField`` store without surprises; ``from_json(cls, data)`` rebuilds it, so that
``from_json(type(obj), to_json(obj)) == obj``. Used by precomputed reports (ADR 0016).

Supported types (anything else is a ``TypeError`` naming the type and the path; nothing is ever
pickled or silently stringified):

* ``None``, ``bool``, ``int``, ``float``, ``str``; a ``float`` that is NaN or infinite (JSON has no
  such numbers) is written as the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``; an ``int``
  in a ``float`` field is written as a float;
* ``datetime.date`` and ``datetime.datetime`` (ISO 8601 strings; an aware datetime comes back with
  a fixed UTC offset, equal to the original instant), ``decimal.Decimal`` (a string), ``uuid.UUID``
  (a string), ``enum.Enum`` subclasses (their value, which must be a str/int/float/bool);
* dataclasses (an object of their fields; every field needs a type hint from this list);
* ``tuple[X, ...]``, fixed ``tuple[X, Y]``, ``list[X]``, ``dict[str, X]`` (lists and objects);
* unions: ``X | None`` for any supported ``X``, and unions of ``int``, ``float``, ``str`` and
  ``bool`` told apart by their JSON type (``float | str`` is refused: a NaN would read back as a
  string).

Data that does not fit the expected type (a string where an int belongs, a missing field, a bad
date) is a ``TypeError`` or ``ValueError`` whose message says where, e.g. ``$.hours.values[3]``.
:func:`schema_fingerprint` summarises a type's shape, so stored data can be refused after the
dataclasses change.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import math
import types
import typing
import uuid
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args, get_origin

T = TypeVar("T")

Encoder = Callable[[Any], Any]
Decoder = Callable[[Any], Any]

_PRIMITIVES: tuple[type, ...] = (bool, int, float, str)
_NONE = type(None)
_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class _Mismatch(Exception):
    """Raised inside the converters; carries the path (built on the way up) and the final
    exception type, so the happy path never formats a path."""

    def __init__(self, message: str, kind: type[Exception] = TypeError) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.path: list[str] = []


def _at(segment: str, exc: _Mismatch) -> _Mismatch:
    exc.path.append(segment)
    return exc


def _raise(exc: _Mismatch) -> typing.NoReturn:
    path = "$" + "".join(reversed(exc.path))
    raise exc.kind(f"{path}: {exc.message}") from None


def _name(tp: Any) -> str:
    if isinstance(tp, type) and get_origin(tp) is None:
        return tp.__qualname__
    return repr(tp).replace("typing.", "")


def _type_name(value: Any) -> str:
    return type(value).__qualname__


def to_json(obj: Any) -> Any:
    """``obj`` as JSON-safe data (dicts with str keys, lists, str, int, float, bool, None).

    A dataclass is converted by its fields' type hints; any other value by its own type
    (containers element by element)."""
    try:
        return _encoder(_root_type(obj), True)(obj)
    except _Mismatch as exc:
        _raise(exc)


def _root_type(value: Any) -> Any:
    return _NONE if value is None else type(value)


def from_json(cls: type[T] | Any, data: Any) -> T:
    """Rebuild a value of type ``cls`` (a dataclass or any supported type expression, e.g.
    ``tuple[int, ...]``) from what :func:`to_json` made of it."""
    try:
        return typing.cast(T, _decoder(typing.cast(Any, cls))(data))
    except _Mismatch as exc:
        _raise(exc)


def schema_fingerprint(cls: Any) -> str:
    """A short hash of the shape of ``cls`` (field names and types, recursively, and enum
    values): it changes when the stored data of ``cls`` would no longer read back."""
    return hashlib.sha256(_describe(cls, ()).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Type analysis
# --------------------------------------------------------------------------------------------


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, Any, bool], ...]:
    """(name, resolved type hint, has a default) of each field of dataclass ``cls``."""
    try:
        hints = typing.get_type_hints(cls)
    except NameError as exc:
        raise TypeError(f"cannot resolve the type hints of {cls.__qualname__}: {exc}") from exc
    out = []
    for field in dataclasses.fields(cls):
        if not field.init:
            raise TypeError(
                f"{cls.__qualname__}.{field.name}: fields with init=False are not supported"
            )
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        out.append((field.name, hints[field.name], has_default))
    return tuple(out)


def _field_converter(
    cls: type, name: str, hint: Any, build: Callable[[Any], Callable[[Any], Any]]
) -> Callable[[Any], Any]:
    try:
        return build(hint)
    except TypeError as exc:
        raise TypeError(f"{cls.__qualname__}.{name}: {exc}") from None


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (typing.Union, types.UnionType)


def _unsupported(tp: Any, why: str = "") -> TypeError:
    extra = f" ({why})" if why else ""
    return TypeError(f"jsondc: unsupported type {_name(tp)}{extra}")


def _union_members(tp: Any) -> tuple[bool, tuple[Any, ...]]:
    """(``None`` allowed, the other members), refusing unions that cannot be read back."""
    args = get_args(tp)
    optional = _NONE in args
    others = tuple(a for a in args if a is not _NONE)
    if len(others) > 1:
        if not all(a in _PRIMITIVES for a in others):
            raise _unsupported(tp, "a union may only mix int, float, str and bool (and None)")
        if float in others and str in others:
            raise _unsupported(tp, "float | str is ambiguous: NaN is written as a string")
    return optional, others


def _describe(tp: Any, seen: tuple[Any, ...]) -> str:
    if tp in seen:
        return f"<recursive {_name(tp)}>"
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        inner = ",".join(f"{n}:{_describe(t, (*seen, tp))}" for n, t, _ in _fields(tp))
        return f"{tp.__module__}.{tp.__qualname__}({inner})"
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return f"{tp.__module__}.{tp.__qualname__}[{','.join(repr(m.value) for m in tp)}]"
    origin = get_origin(tp)
    if origin is not None:
        args = ",".join("..." if a is Ellipsis else _describe(a, seen) for a in get_args(tp))
        return f"{'union' if _is_union(tp) else _name(origin)}[{args}]"
    return _name(tp)


# --------------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------------


def _encode_float(value: Any) -> Any:
    if type(value) is float:
        if math.isfinite(value):
            return value
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _encode_float(float(value))
    raise _Mismatch(f"expected float, got {_type_name(value)}")


def _check(kind: type, strict_name: str) -> Encoder:
    def encode(value: Any) -> Any:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value.value if isinstance(value, enum.Enum) else value
        raise _Mismatch(f"expected {strict_name}, got {_type_name(value)}")

    return encode


def _encode_none(value: Any) -> None:
    if value is not None:
        raise _Mismatch(f"expected None, got {_type_name(value)}")
    return None


def _encode_exact(kind: type, convert: Callable[[Any], Any]) -> Encoder:
    def encode(value: Any) -> Any:
        if type(value) is not kind:  # a datetime in a date field would lose its time
            raise _Mismatch(f"expected {kind.__qualname__}, got {_type_name(value)}")
        return convert(value)

    return encode


def _accepts(value: Any, tp: Any) -> bool:
    """Does ``value`` belong to union member ``tp`` (one of the primitives)?"""
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return type(value) is float
    if tp is str:
        return isinstance(value, str)
    raise AssertionError(tp)  # pragma: no cover: other unions are refused earlier


@functools.cache
def _encoder(tp: Any, infer: bool = False) -> Encoder:
    """The encoder of values of type ``tp``; with ``infer`` (the root of :func:`to_json`, given
    ``type(value)``), containers' elements are encoded by their own types."""
    if tp is Any or isinstance(tp, TypeVar):
        raise _unsupported(tp, "a field needs a concrete type to be read back")
    if tp is _NONE:
        return _encode_none
    if tp is bool:
        return _check(bool, "bool")
    if tp is float:
        return _encode_float
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _encode_enum(tp)
    if tp is int:
        return _check(int, "int")
    if tp is str:
        return _check(str, "str")
    if tp is dt.datetime:
        return _encode_exact(dt.datetime, dt.datetime.isoformat)
    if tp is dt.date:
        return _encode_exact(dt.date, dt.date.isoformat)
    if tp is Decimal:
        return _encode_exact(Decimal, str)
    if tp is uuid.UUID:
        return _encode_exact(uuid.UUID, str)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _encode_dataclass(tp)
    if infer and tp in (tuple, list, dict):
        return _encode_inferred_container(tp)
    if _is_union(tp):
        return _encode_union(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is tuple and tp is not typing.Tuple:  # noqa: UP006 (bare typing.Tuple)
        return _encode_tuple(tp, args)
    if origin is list and len(args) == 1:
        return _encode_sequence(list, _encoder(args[0]))
    if origin is dict and len(args) == 2:
        if args[0] is not str:
            raise _unsupported(tp, "dict keys must be str")
        return _encode_dict(_encoder(args[1]))
    raise _unsupported(tp)


def _encode_value(value: Any) -> Any:
    """Encode by the value's own type (containers of :func:`to_json`'s root)."""
    return _encoder(_root_type(value), True)(value)


def _encode_inferred_container(kind: type) -> Encoder:
    def encode(value: Any) -> Any:
        if kind is dict:
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _Mismatch(f"dict keys must be str, got {_type_name(key)}")
                try:
                    out[key] = _encode_value(item)
                except _Mismatch as exc:
                    raise _at(f"[{key!r}]", exc) from None
            return out
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_encode_value(item))
            except _Mismatch as exc:
                raise _at(f"[{i}]", exc) from None
        return items

    return encode


def _encode_enum(tp: type[enum.Enum]) -> Encoder:
    for member in tp:
        if type(member.value) not in _PRIMITIVES:
            raise _unsupported(tp, f"member {member.name} has a {_type_name(member.value)} value")

    def encode(value: Any) -> Any:
        if not isinstance(value, tp):
            raise _Mismatch(f"expected {tp.__qualname__}, got {_type_name(value)}")
        return value.value

    return encode


def _encode_dataclass(cls: type) -> Encoder:
    plan = [(name, _field_converter(cls, name, hint, _encoder)) for name, hint, _ in _fields(cls)]

    def encode(value: Any) -> Any:
        if type(value) is not cls:
            raise _Mismatch(f"expected {cls.__qualname__}, got {_type_name(value)}")
        out = {}
        for name, enc in plan:
            try:
                out[name] = enc(getattr(value, name))
            except _Mismatch as exc:
                raise _at(f".{name}", exc) from None
        return out

    return encode


def _encode_union(tp: Any) -> Encoder:
    optional, others = _union_members(tp)
    if len(others) == 1:
        inner = _encoder(others[0])
        if not optional:  # pragma: no cover: a one-member union is that member
            return inner

        def encode_optional(value: Any) -> Any:
            return None if value is None else inner(value)

        return encode_optional
    encoders = [(member, _encoder(member)) for member in others]

    def encode(value: Any) -> Any:
        if value is None and optional:
            return None
        for member, enc in encoders:
            if _accepts(value, member):
                return enc(value)
        if float in others and isinstance(value, int) and not isinstance(value, bool):
            return _encode_float(value)
        raise _Mismatch(f"expected {_name(tp)}, got {_type_name(value)}")

    return encode


def _encode_tuple(tp: Any, args: tuple[Any, ...]) -> Encoder:
    if len(args) == 2 and args[1] is Ellipsis:
        return _encode_sequence(tuple, _encoder(args[0]))
    if args == ((),):  # tuple[()]
        args = ()
    encoders = [_encoder(a) for a in args]

    def encode(value: Any) -> Any:
        if type(value) is not tuple:
            raise _Mismatch(f"expected tuple, got {_type_name(value)}")
        if len(value) != len(encoders):
            raise _Mismatch(f"expected {len(encoders)} items, got {len(value)}")
        items = []
        for i, (enc, item) in enumerate(zip(encoders, value, strict=True)):
            try:
                items.append(enc(item))
            except _Mismatch as exc:
                raise _at(f"[{i}]", exc) from None
        return items

    return encode


def _encode_sequence(kind: type, enc: Encoder) -> Encoder:
    def encode(value: Any) -> Any:
        if type(value) is not kind:  # a list in a tuple field would not compare equal
            raise _Mismatch(f"expected {kind.__qualname__}, got {_type_name(value)}")
        items = typing.cast("list[Any] | tuple[Any, ...]", value)
        try:
            return [enc(item) for item in items]
        except _Mismatch as exc:
            index = next(i for i, item in enumerate(items) if not _encodes(enc, item))
            raise _at(f"[{index}]", exc) from None

    return encode


def _encodes(enc: Encoder, item: Any) -> bool:
    try:
        enc(item)
    except _Mismatch:
        return False
    return True


def _encode_dict(enc: Encoder) -> Encoder:
    def encode(value: Any) -> Any:
        if not isinstance(value, dict):
            raise _Mismatch(f"expected dict, got {_type_name(value)}")
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise _Mismatch(f"dict keys must be str, got {_type_name(key)}")
            try:
                out[key] = enc(item)
            except _Mismatch as exc:
                raise _at(f"[{key!r}]", exc) from None
        return out

    return encode


# --------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------


def _json_type(data: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(data), "number"
    )


def _decode_bool(data: Any) -> bool:
    if type(data) is not bool:
        raise _Mismatch(f"expected a boolean, got {_json_type(data)}")
    return data


def _decode_int(data: Any) -> int:
    if type(data) is not int:
        raise _Mismatch(f"expected an integer, got {_json_type(data)}")
    return data


def _decode_float(data: Any) -> float:
    kind = type(data)
    if kind is float:
        return data
    if kind is int:  # e.g. a large float that a database wrote without its ".0"
        return float(data)
    if kind is str and data in _NON_FINITE:
        return _NON_FINITE[data]
    raise _Mismatch(f"expected a number, got {_json_type(data)}")


def _decode_str(data: Any) -> str:
    if type(data) is not str:
        raise _Mismatch(f"expected a string, got {_json_type(data)}")
    return data


def _decode_none(data: Any) -> None:
    if data is not None:
        raise _Mismatch(f"expected null, got {_json_type(data)}")
    return None


def _decode_parsed(kind: type, parse: Callable[[str], Any]) -> Decoder:
    def decode(data: Any) -> Any:
        if type(data) is not str:
            raise _Mismatch(f"expected a {kind.__qualname__} string, got {_json_type(data)}")
        try:
            value = parse(data)
        except (ValueError, InvalidOperation):
            raise _Mismatch(f"not a valid {kind.__qualname__}: {data!r}", ValueError) from None
        if type(value) is not kind:  # date.fromisoformat never returns a datetime, but be sure
            raise _Mismatch(f"not a valid {kind.__qualname__}: {data!r}", ValueError)
        return value

    return decode


@functools.cache
def _decoder(tp: Any) -> Decoder:
    if tp is Any or isinstance(tp, TypeVar):
        raise _unsupported(tp, "a field needs a concrete type to be read back")
    if tp is _NONE or tp is None:
        return _decode_none
    if tp is bool:
        return _decode_bool
    if tp is int:
        return _decode_int
    if tp is float:
        return _decode_float
    if tp is str:
        return _decode_str
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _decode_enum(tp)
    if tp is dt.datetime:
        return _decode_parsed(dt.datetime, dt.datetime.fromisoformat)
    if tp is dt.date:
        return _decode_parsed(dt.date, dt.date.fromisoformat)
    if tp is Decimal:
        return _decode_parsed(Decimal, Decimal)
    if tp is uuid.UUID:
        return _decode_parsed(uuid.UUID, uuid.UUID)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _decode_dataclass(tp)
    if _is_union(tp):
        return _decode_union(tp)
    origin, args = get_origin(tp), get_args(tp)
    if origin is tuple and tp is not typing.Tuple:  # noqa: UP006 (bare typing.Tuple)
        if len(args) == 2 and args[1] is Ellipsis:
            return _decode_sequence(tuple, _decoder(args[0]))
        return _decode_fixed_tuple(() if args == ((),) else args)  # tuple[()]: no args
    if origin is list and len(args) == 1:
        return _decode_sequence(list, _decoder(args[0]))
    if origin is dict and len(args) == 2:
        if args[0] is not str:
            raise _unsupported(tp, "dict keys must be str")
        return _decode_dict(_decoder(args[1]))
    raise _unsupported(tp)


def _decode_enum(tp: type[enum.Enum]) -> Decoder:
    _encode_enum(tp)  # refuses enums whose values are not JSON primitives

    def decode(data: Any) -> Any:
        try:
            return tp(data)
        except ValueError:
            raise _Mismatch(f"{data!r} is not a {tp.__qualname__}", ValueError) from None

    return decode


def _decode_dataclass(cls: type) -> Decoder:
    plan = [
        (name, _field_converter(cls, name, hint, _decoder), has_default)
        for name, hint, has_default in _fields(cls)
    ]
    names = {name for name, _, _ in plan}

    def decode(data: Any) -> Any:
        if type(data) is not dict:
            raise _Mismatch(f"expected an object for {cls.__qualname__}, got {_json_type(data)}")
        kwargs = {}
        for name, dec, has_default in plan:
            if name not in data:
                if has_default:
                    continue
                raise _Mismatch(f"{cls.__qualname__}: missing field {name!r}")
            try:
                kwargs[name] = dec(data[name])
            except _Mismatch as exc:
                raise _at(f".{name}", exc) from None
        if len(data) != len(kwargs) and not data.keys() <= names:
            unknown = ", ".join(sorted(repr(k) for k in set(data) - names))
            raise _Mismatch(f"{cls.__qualname__}: unknown field(s) {unknown}")
        return cls(**kwargs)

    return decode


def _decode_union(tp: Any) -> Decoder:
    optional, others = _union_members(tp)
    if len(others) == 1:
        inner = _decoder(others[0])

        def decode_optional(data: Any) -> Any:
            return None if data is None and optional else inner(data)

        return decode_optional

    def decode(data: Any) -> Any:
        kind = type(data)
        if data is None and optional:
            return None
        if kind is bool and bool in others:
            return data
        if kind is int and int in others:
            return data
        if kind in (int, float) and float in others:
            return float(data)
        if kind is str and str in others:
            return data
        if kind is str and float in others and data in _NON_FINITE:
            return _NON_FINITE[data]
        raise _Mismatch(f"expected {_name(tp)}, got {_json_type(data)}")

    return decode


def _decode_fixed_tuple(args: tuple[Any, ...]) -> Decoder:
    decoders = [_decoder(a) for a in args]
    # Fast path for pairs of primitives (thousands of score pairs in an outcome report).
    kinds = [_exact_type(d) or (float if d is _decode_float else None) for d in decoders]
    exact = tuple(kinds) if all(k is not None for k in kinds) else None

    def decode(data: Any) -> Any:
        if type(data) is not list:
            raise _Mismatch(f"expected an array, got {_json_type(data)}")
        if len(data) != len(decoders):
            raise _Mismatch(f"expected {len(decoders)} items, got {len(data)}", ValueError)
        if exact is not None and all(
            type(item) is kind for item, kind in zip(data, exact, strict=True)
        ):
            return tuple(data)
        items = []
        for i, (dec, item) in enumerate(zip(decoders, data, strict=True)):
            try:
                items.append(dec(item))
            except _Mismatch as exc:
                raise _at(f"[{i}]", exc) from None
        return tuple(items)

    return decode


def _exact_type(dec: Decoder) -> type | None:
    for kind, known in ((int, _decode_int), (str, _decode_str), (bool, _decode_bool)):
        if dec is known:
            return kind
    return None


def _decode_sequence(kind: type, dec: Decoder) -> Decoder:
    # Fast paths for long arrays of one primitive (hours per week, lengths of stay).
    exact = _exact_type(dec)

    def decode(data: Any) -> Any:
        if type(data) is not list:
            raise _Mismatch(f"expected an array, got {_json_type(data)}")
        if exact is not None and all(type(item) is exact for item in data):
            return kind(data)
        if dec is _decode_float and all(type(item) is float for item in data):
            return kind(data)
        items = []
        for i, item in enumerate(data):
            try:
                items.append(dec(item))
            except _Mismatch as exc:
                raise _at(f"[{i}]", exc) from None
        return kind(items)

    return decode


def _decode_dict(dec: Decoder) -> Decoder:
    def decode(data: Any) -> Any:
        if type(data) is not dict:
            raise _Mismatch(f"expected an object, got {_json_type(data)}")
        out = {}
        for key, item in data.items():
            try:
                out[key] = dec(item)
            except _Mismatch as exc:
                raise _at(f"[{key!r}]", exc) from None
        return out

    return decode
