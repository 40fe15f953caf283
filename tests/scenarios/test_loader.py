"""Scenario files: read like the data files, refused with file, position and key."""

from __future__ import annotations

import codecs
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forecastlib.errors import ConfigError
from forecastlib.scenarios import ScenarioError, load_scenario, merge_scenarios

EXTRA = ('"kind": "extra_placements", "service": "LAC Placements", '
         '"category": "Residential homes", ')


def json_file(tmp_path, change_keys, name="s.json", prefix=b"", encoding="utf-8"):
    path = tmp_path / name
    text = '{"name": "Extra", "changes": [{' + EXTRA + change_keys + "}]}"
    path.write_bytes(prefix + text.encode(encoding))
    return path


def yaml_file(tmp_path, body, name="s.yaml", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(("name: Uplift\nchanges:\n  - " + body.replace("\n", "\n    ") + "\n")
                     .encode(encoding))
    return path


def refused(path):
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


@pytest.mark.parametrize("prefix, encoding", [(codecs.BOM_UTF8, "utf-8"),
                                              (b"", "utf-16"), (b"", "cp1252")])
def test_bom_utf16_and_cp1252_files_are_read(tmp_path, prefix, encoding):
    path = json_file(tmp_path, '"count": 5, "start": "2017-11-01", "unit_cost": "£4,000"',
                     prefix=prefix, encoding=encoding)
    scenario = load_scenario(path)
    assert scenario.changes[0].unit_cost == 4000.0 and scenario.changes[0].count == 5
    if encoding == "cp1252":
        assert "cp1252" in scenario.notes[0]
        assert "cp1252" in merge_scenarios([scenario, scenario]).notes[1]
    elif encoding == "utf-16":
        assert "UTF-16" in scenario.notes[0]
    else:
        assert scenario.notes == []


def test_uk_dates_and_pound_amounts_as_in_data_files(tmp_path):
    path = yaml_file(tmp_path, "kind: savings\nservice: LD\namount: £250,000.00\n"
                     "start: 01/12/2017")
    change = load_scenario(path).changes[0]
    assert (change.amount, change.start) == (250_000.0, dt.date(2017, 12, 1))


@pytest.mark.parametrize("start", ["2017-02-30", "30/02/2017", "31/10/19", "20171101",
                                   "2017-11-01T10:00:00"])
def test_impossible_or_unreadable_dates_are_refused_with_position_and_key(tmp_path, start):
    message = refused(json_file(tmp_path, f'"count": 5, "start": "{start}"'))
    assert "s.json" in message and "changes[0] (extra_placements) key 'start'" in message
    message = refused(yaml_file(tmp_path, f"kind: savings\nservice: LD\namount: 5\n"
                                f"start: {start}"))
    assert "changes[0] (savings) key 'start'" in message


def test_two_digit_years_get_their_own_message(tmp_path):
    assert "4-digit year" in refused(json_file(tmp_path, '"count": 5, "start": "31/10/19"'))


@pytest.mark.parametrize("value, words", [("9" * 5000, "at most 30 digits"),
                                          ("1e999", "finite"), ("NaN", "finite"),
                                          ("Infinity", "finite"), ("1e12", "less than or equal"),
                                          ("20000", "less than or equal"),
                                          ("true", "not true/false"), ('"five"', "a number")])
def test_absurd_or_non_numbers_are_refused(tmp_path, value, words):
    message = refused(json_file(tmp_path, f'"count": {value}, "start": "2017-11-01"'))
    assert "changes[0]" in message and "'count'" in message and words in message


@pytest.mark.parametrize("body, key", [
    ("kind: demand_growth\nservice: '*'\npercent: .inf\nstart: 2017-11-01", "percent"),
    ("kind: demand_growth\nservice: '*'\npercent: .nan\nstart: 2017-11-01", "percent"),
    ("kind: extra_placements\nservice: L\ncategory: R\ncount: true\nstart: 2017-11-01",
     "count"),
    ("kind: savings\nservice: L\namount: yes\nstart: 2017-11-01", "amount"),
    ("kind: savings\nservice: L\namount: 1e11\nstart: 2017-11-01", "amount"),
])
def test_yaml_infinities_and_booleans_are_not_numbers(tmp_path, body, key):
    message = refused(yaml_file(tmp_path, body))
    assert "changes[0]" in message and f"'{key}'" in message


def test_duplicate_keys_are_refused_in_json_and_yaml(tmp_path):
    message = refused(json_file(tmp_path, '"count": 5, "count": 6, "start": "2017-11-01"'))
    assert message == "s.json: changes[0] key 'count': given twice in one mapping"
    message = refused(yaml_file(tmp_path, "kind: savings\nservice: L\namount: 5\namount: 6\n"
                                "start: 2017-11-01"))
    assert message == "s.yaml: line 6, key 'amount': given twice in one mapping (line 5 gives " \
                      "it too)"


def test_deep_nesting_aliases_and_big_files_are_refused(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert "nesting deeper" in refused(deep)
    deep_yaml = tmp_path / "deep.yaml"
    deep_yaml.write_text("a: " + "[" * 5000 + "]" * 5000)
    assert "nesting deeper" in refused(deep_yaml)
    alias = tmp_path / "alias.yaml"
    alias.write_text("name: &a x\nchanges:\n  - kind: savings\n    service: *a\n")
    assert "anchors and aliases" in refused(alias)
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 1_100_000)
    assert "at most 1,000,000 bytes" in refused(big)


def test_encoding_problems_are_refused(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_bytes(codecs.BOM_UTF16_LE + b"\x00\xd8")
    assert "not valid UTF-16" in refused(bad)
    binary = tmp_path / "nul.yaml"
    binary.write_bytes(b"name: x\x00")
    assert "NUL" in refused(binary)
    undefined = tmp_path / "undefined.yaml"
    undefined.write_bytes(b"name: \x81\x8d")
    assert "not cp1252 either" in refused(undefined)


def test_many_problems_are_listed_together(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"name": "x", "changes": [
        {"kind": "savings", "service": "L", "amount": -1, "start": "2017-11-01"},
        {"kind": "extra_placements", "service": "L", "category": "R", "count": 0,
         "start": "2017-11-01", "colour": "red"}]}))
    message = refused(path)
    assert "changes[0] (savings) key 'amount'" in message
    assert "changes[1] (extra_placements) key 'count'" in message
    assert "changes[1] (extra_placements) key 'colour'" in message


SCENARIO_TEXT = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(lambda t: t.encode("utf-8")),
    st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)
    .map(lambda data: json.dumps({"name": "x", "changes": [data]}).encode()),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=SCENARIO_TEXT, suffix=st.sampled_from([".json", ".yaml", ".yml"]))
def test_any_bytes_load_or_raise_a_config_error_naming_the_file(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("scenario") / f"s{suffix}"
    path.write_bytes(data)
    try:
        load_scenario(path)
    except ConfigError as error:
        assert str(error).startswith(f"s{suffix}:")
