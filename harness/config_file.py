"""A parsed config file validated by its pydantic model; a refusal becomes one ConfigError."""

from __future__ import annotations

import tomllib
import types
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from harness.errors import ConfigError

# What every config file model uses: unknown keys refused, no silent "200" -> 200.0, read-only.
FILE_MODEL = ConfigDict(extra="forbid", strict=True, frozen=True)

Model = TypeVar("Model", bound=BaseModel)
KINDS: dict[Any, tuple[str, str]] = {
    float: ("a number", "numbers"),
    int: ("a whole number", "whole numbers"),
    str: ("a string", "strings"),
    bool: ("true or false", "true or false values"),
}
BOUNDS = (("gt", "greater than"), ("ge", "at least"), ("lt", "less than"), ("le", "at most"))


def read_toml(path: Path, what: str, example: str) -> dict[str, Any]:
    """A TOML file's tables; ConfigError when it is missing, unreadable or not TOML."""
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"no {what} at {path}", "check the path given") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the {what} {path} ({exc.strerror})", "check the file's permissions"
        ) from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", f"compare with {example}") from None


def validate_file(model: type[Model], data: dict[str, Any], source: object, example: str) -> Model:
    """`data`, read from the file `source`, as a `model`; `example` is a good file to compare."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # A misspelt key also shows as the right one missing: name the misspelling.
        first = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        raise refusal(first, model, data, source, example) from None


def refusal(
    error: ErrorDetails, model: type[BaseModel], data: dict[str, Any], source: object, example: str
) -> ConfigError:
    """One pydantic error in plain words: the file, the key path and what it must be."""
    loc, kind = error["loc"], error["type"]
    where = key_path(loc, data)
    if kind in ("extra_forbidden", "missing"):
        parent = key_path(loc[:-1], data)
        inside = f" in {parent}" if parent else ""
        if kind == "missing":
            return ConfigError(
                f'{source}: missing key "{loc[-1]}"{inside}', f"add it; compare with {example}"
            )
        keys = ", ".join(fields_of(annotation_at(model, loc[:-1])[0]))
        return ConfigError(
            f'{source}: unknown key "{loc[-1]}"{inside}',
            f"remove it or fix its spelling ({parent or 'the top level'} takes {keys});"
            f" compare with {example}",
        )
    if kind == "value_error":  # a model's own check: its message says what is wrong
        message = error["msg"].removeprefix("Value error, ")
        return ConfigError(
            f"{source}: {where}: {message}" if where else f"{source}: {message}",
            f"compare with {example}",
        )
    annotation, field = annotation_at(model, loc)
    return ConfigError(
        f"{source}: {where} must be {expectation(annotation, field)}", f"compare with {example}"
    )


def key_path(loc: tuple[int | str, ...], data: Any) -> str:
    """`group "auth".p95_ms`: dotted keys; a list item by its `name` if it has one, else `#n`."""
    words: list[str] = []
    node = data
    for part in loc:
        node = _child(node, part)
        if isinstance(part, int) and words:
            name = node.get("name") if isinstance(node, dict) else None
            words[-1] += f' "{name}"' if isinstance(name, str) else f" #{part + 1}"
        else:
            words.append(str(part))
    return ".".join(words)


def annotation_at(
    model: type[BaseModel], loc: tuple[int | str, ...]
) -> tuple[Any, FieldInfo | None]:
    """The type expected at `loc`, and the field it is (None inside a list or a table)."""
    annotation: Any = model
    field: FieldInfo | None = None
    for part in loc:
        annotation = _without_none(annotation)
        field = fields_of(annotation).get(str(part)) if _is_model(annotation) else None
        if field is not None:
            annotation = field.annotation
        else:  # a list item or a table's value: list[X] and dict[str, X] both end with X
            args = get_args(annotation)
            annotation = args[-1] if args else None
    return _without_none(annotation), field


def expectation(annotation: Any, field: FieldInfo | None) -> str:
    """`a number greater than 0`, `a list of strings`, `a table`."""
    if get_origin(annotation) is list:
        item = get_args(annotation)[0]
        return f"a list of {KINDS[item][1] if item in KINDS else 'tables'}"
    if get_origin(annotation) is dict or _is_model(annotation):
        return "a table"
    words = KINDS.get(annotation, ("a valid value", ""))[0]
    limits = {
        key: getattr(m, key)
        for m in (field.metadata if field else [])
        for key, _ in BOUNDS
        if hasattr(m, key)
    }
    if {"ge", "le"} <= set(limits):
        return f"{words} between {limits['ge']:g} and {limits['le']:g}"
    said = " and ".join(f"{phrase} {limits[key]:g}" for key, phrase in BOUNDS if key in limits)
    return f"{words} {said}" if said else words


def fields_of(annotation: Any) -> dict[str, FieldInfo]:
    """A model's fields by the key a file uses for them (its alias, if it has one)."""
    if not _is_model(annotation):
        return {}
    return {info.alias or name: info for name, info in annotation.model_fields.items()}


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None
