"""Scenario files to plain data, refusing what a strict reader must not guess.

The bytes are decoded like the data files (UTF-8 with or without a byte-order mark,
UTF-16, else cp1252 with a note), then parsed as JSON or YAML with these rules, each
refusal naming the file, the position (``changes[2]``) and the key:

* a key given twice in one mapping (JSON and YAML both keep the last one silently);
* ``NaN``, ``Infinity``, ``.inf``, a number too large for a float, an integer of more
  than 30 digits;
* nesting deeper than :data:`MAX_DEPTH`, YAML anchors and aliases (a scenario never
  needs them, and they can make a small file expand enormously), a file over 1 MB.

YAML dates are left as text, so that the scenario's own date rules (ISO or UK
``DD/MM/YYYY``, no impossible dates) apply to them as to JSON's.

Examples
--------
>>> parse_scenario_text('{"name": "x", "changes": [], "name": NaN}', "s.json")[1]
[("key 'name'", 'given twice in one mapping'), ("key 'name'", "a finite number (value 'NaN')")]
>>> parse_scenario_text("name: x\\nname: y\\n", "s.yaml")
Traceback (most recent call last):
...
forecastlib.scenarios.files.ScenarioError: s.yaml: line 2, key 'name': given twice \
in one mapping (line 1 gives it too)
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from forecastlib.errors import ConfigError, DataValidationError
from forecastlib.records.encoding import decode_text

__all__ = ["MAX_DEPTH", "MAX_FILE_BYTES", "ScenarioError", "describe", "parse_scenario_text",
           "read_scenario_file", "where"]

#: Deepest nesting of mappings and lists a scenario file may have.
MAX_DEPTH = 8
#: Largest scenario file read.
MAX_FILE_BYTES = 1_000_000
_MAX_INT_DIGITS = 30


class ScenarioError(ConfigError):
    """A scenario file or object breaks the contract (names the key and position)."""


class _Bad(str):
    """A value the parser refused, kept in place so its position can be named."""

    reason = ""

    @classmethod
    def of(cls, text: str, reason: str) -> _Bad:
        bad = cls(text)
        bad.reason = reason
        return bad


class _Mapping(dict):
    """A mapping that remembers keys given twice."""

    duplicates: list[str]


def where(path: tuple[Any, ...]) -> str:
    """``('changes', 0, 'count')`` as ``changes[0] key 'count'``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    head, _, key = text.rpartition(".")
    if key and not key.endswith("]"):
        return f"{head} key {key!r}" if head else f"key {key!r}"
    return text or "the top level"


def _walk(data: Any, path: tuple[Any, ...] = (), depth: int = 0,
          problems: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """``(where, what)`` of every refused value and repeated key, depth first."""
    problems = [] if problems is None else problems
    if depth > MAX_DEPTH:
        problems.append((where(path), f"nesting deeper than {MAX_DEPTH} levels"))
        return problems
    if isinstance(data, _Bad):
        problems.append((where(path), f"{data.reason} (value {str(data)[:40]!r})"))
    elif isinstance(data, float) and not math.isfinite(data):
        problems.append((where(path), f"a finite number (value {data!r})"))
    elif isinstance(data, dict):
        for key in getattr(data, "duplicates", []):
            problems.append((where(path + (key,)), "given twice in one mapping"))
        for key, value in data.items():
            _walk(value, path + (key,), depth + 1, problems)
    elif isinstance(data, list):
        for position, value in enumerate(data):
            _walk(value, path + (position,), depth + 1, problems)
    return problems


def describe(label: str, problems: list[tuple[str, str]]) -> str:
    """One message listing ``(where, what)`` problems of a file."""
    if len(problems) == 1:
        return f"{label}: {problems[0][0]}: {problems[0][1]}"
    lines = [f"{label}: {len(problems)} problems:"]
    lines += [f"  - {place}: {what}" for place, what in problems]
    return "\n".join(lines)


def _json_pairs(pairs: list[tuple[str, Any]]) -> _Mapping:
    mapping = _Mapping()
    mapping.duplicates = []
    for key, value in pairs:
        if key in mapping and key not in mapping.duplicates:
            mapping.duplicates.append(key)
        mapping[key] = value
    return mapping


def _json_int(text: str) -> int | _Bad:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        return _Bad.of(text, f"a number of at most {_MAX_INT_DIGITS} digits")
    return int(text)


def _json_float(text: str) -> float | _Bad:
    value = float(text)
    return value if math.isfinite(value) else _Bad.of(text, "a finite number")


def _json_constant(text: str) -> _Bad:
    return _Bad.of(text, "a finite number")


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML, with duplicate keys, aliases and huge integers refused."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (*name) are not allowed in a scenario file",
                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.get(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be plain text", key_node.start_mark
                ) from None
            if first is not None:
                raise ScenarioError(
                    f"{self.label}: line {key_node.start_mark.line + 1}, key {key!r}: given "
                    f"twice in one mapping (line {first} gives it too)")
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: Any) -> int | _Bad:
        text = str(node.value).replace("_", "")
        if len(text.lstrip("+-")) > _MAX_INT_DIGITS:
            return _Bad.of(text, f"a number of at most {_MAX_INT_DIGITS} digits")
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: Any) -> str:
        return str(node.value)


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp",
                              _StrictLoader.construct_yaml_timestamp)


def parse_scenario_text(text: str, label: str, kind: str | None = None
                        ) -> tuple[Any, list[tuple[str, str]]]:
    """Parse a scenario file's text (JSON if ``kind`` or the name says so, else YAML).

    Returns the data and the ``(where, what)`` of every refused value and repeated key
    (left for the caller to list beside the schema's own problems).

    Raises
    ------
    ScenarioError
        Not well-formed, nested too deep, a YAML alias or a key repeated in YAML.
    """
    is_json = (kind or Path(label).suffix.lstrip(".")).lower() == "json"
    try:
        if is_json:
            data = json.loads(text, object_pairs_hook=_json_pairs, parse_int=_json_int,
                              parse_float=_json_float, parse_constant=_json_constant)
        else:
            loader = _StrictLoader(text)
            loader.label = label
            try:
                data = loader.get_single_data()
            finally:
                loader.dispose()
    except ScenarioError:
        raise
    except RecursionError:
        raise ScenarioError(f"{label}: nesting deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise ScenarioError(f"{label}: not valid JSON: {error.msg} at line {error.lineno}"
                                f", column {error.colno}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(f"{label}: not valid YAML: {problem}{at}") from None
    except ValueError as error:  # e.g. a YAML value its constructor cannot read
        raise ScenarioError(f"{label}: not valid {'JSON' if is_json else 'YAML'}: "
                                f"{error}") from None
    problems = _walk(data)
    deep = [p for p in problems if p[1].startswith("nesting deeper")]
    if deep:
        raise ScenarioError(describe(label, deep[:1]))
    return data, problems


def read_scenario_file(path: Path, label: str
                       ) -> tuple[Any, list[tuple[str, str]], list[str]]:
    """Read, decode and parse a scenario file: the data, its refused values (see
    :func:`parse_scenario_text`) and notes (the encoding used)."""
    if not path.is_file():
        raise ScenarioError(f"{label}: no such scenario file")
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ScenarioError(f"{label}: a scenario file of at most "
                                    f"{MAX_FILE_BYTES:,} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise ScenarioError(f"{label}: cannot be read ({error.strerror})") from None
    try:
        text, notes = decode_text(data, label)
    except DataValidationError as error:
        raise ScenarioError(f"{label}: {error.problems[0].expected}") from None
    data, problems = parse_scenario_text(text, label)
    return data, problems, notes
