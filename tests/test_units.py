"""The unit registry (承办单位, domain.md §2): the shipped file and the refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.adapters.unit_file import load_unit_registry
from hotline.domain.errors import DataFileError, HotlineError, InvalidInput, UnknownUnit
from hotline.domain.units import Unit, UnitGroup, UnitRegistry

SHIPPED = Path(__file__).parents[1] / "rubrics" / "units.toml"


@pytest.fixture(scope="module")
def registry() -> UnitRegistry:
    return load_unit_registry(SHIPPED)


# --- the shipped registry (results-2019) -------------------------------------------------


def test_shipped_registry_has_66_units_in_three_groups(registry: UnitRegistry) -> None:
    assert len(registry.units) == 66
    assert len(registry) == 66
    assert [(g.key, len(g.units)) for g in registry.groups] == [
        ("district", 17),
        ("municipal", 33),
        ("consumer_council", 16),
    ]


def test_only_district_is_graded(registry: UnitRegistry) -> None:
    assert registry.group("district").graded is True
    assert registry.group("municipal").graded is False
    assert registry.group("consumer_council").graded is False


def test_group_names_and_file_order(registry: UnitRegistry) -> None:
    district = registry.group("district")
    assert district.name == "各区市场监管局、机场分局"
    assert district.units[0] == "闵行区市场监管局"
    assert district.units[11] == "机场分局"
    assert district.units[-1] == "浦东新区市场监管局"
    municipal = registry.group("municipal")
    assert municipal.units[0] == "办公室"
    assert municipal.units[-2:] == ("市药监局", "市知识产权局")
    council = registry.group("consumer_council")
    assert (council.units[0], council.units[-1]) == ("闵行区消保委", "奉贤区消保委")
    # units are listed group by group, in file order
    assert [u.name for u in registry.units] == [
        *district.units,
        *municipal.units,
        *council.units,
    ]


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("闵行区市场监管局", "district"),
        ("机场分局", "district"),
        ("闵行区消保委", "consumer_council"),
        ("市知识产权局", "municipal"),
        ("市消费者权益保护委员会秘书处", "municipal"),
    ],
)
def test_unit_groups(registry: UnitRegistry, name: str, group: str) -> None:
    assert registry.get(name) == Unit(name=name, group=group)
    assert name in registry


def test_lookup_ignores_surrounding_whitespace(registry: UnitRegistry) -> None:
    assert registry.get("  闵行区市场监管局\n").name == "闵行区市场监管局"
    assert " 闵行区消保委 " in registry


@pytest.mark.parametrize("alias", ["市药品监管局", "市药品监督管理局", " 市药品监管局 "])
def test_alias_lookup(registry: UnitRegistry, alias: str) -> None:
    assert registry.get(alias) == Unit(name="市药监局", group="municipal")
    assert alias in registry


def test_canonical_is_the_registered_name_of_what_a_user_gave(registry: UnitRegistry) -> None:
    assert registry.canonical(" 市药品监督管理局 ") == "市药监局"
    assert registry.canonical("市药监局") == "市药监局"
    assert registry.canonical(None) is None
    with pytest.raises(UnknownUnit):
        registry.canonical("市药监")


def test_aliases_resolve_to_table_spelling(registry: UnitRegistry) -> None:
    assert registry.aliases["市药品监管局"] == "市药监局"
    assert registry.get("执法总队").name == "市局执法总队"


def test_contains_rejects_unknowns_and_non_strings(registry: UnitRegistry) -> None:
    assert "闵行区" not in registry
    assert 42 not in registry
    assert None not in registry


def test_unknown_unit_suggests_both_minhang_units(registry: UnitRegistry) -> None:
    with pytest.raises(UnknownUnit) as caught:
        registry.get("闵行区")
    assert str(caught.value) == (
        "unknown unit '闵行区'; did you mean 闵行区市场监管局, 闵行区消保委? (see `hotline units`)"
    )
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("typed", ["闵行", "闵行区"])
def test_suggest_substring_first(registry: UnitRegistry, typed: str) -> None:
    assert registry.suggest(typed)[:2] == ["闵行区市场监管局", "闵行区消保委"]


def test_suggest_typo(registry: UnitRegistry) -> None:
    assert registry.suggest("松江区市场监官局")[0] == "松江区市场监管局"
    with pytest.raises(UnknownUnit, match="did you mean 松江区市场监管局"):
        registry.get("松江区市场监官局")


def test_suggest_resolves_aliases_and_respects_limit(registry: UnitRegistry) -> None:
    assert registry.suggest("药品监管") == ["市药监局"]
    assert len(registry.suggest("市场监管局")) == 3
    assert len(registry.suggest("市场监管局", limit=5)) == 5
    assert registry.suggest("市场监管局", limit=0) == []
    assert registry.suggest("   ") == []


def test_unknown_unit_without_suggestion(registry: UnitRegistry) -> None:
    with pytest.raises(UnknownUnit) as caught:
        registry.get("xyz")
    assert str(caught.value) == "unknown unit 'xyz' (see `hotline units`)"


def test_unknown_group_names_valid_keys(registry: UnitRegistry) -> None:
    with pytest.raises(UnknownUnit, match="district, municipal, consumer_council"):
        registry.group("districts")


# --- the domain constructor ----------------------------------------------------------


def _group(key: str, *units: str, graded: bool = False) -> UnitGroup:
    return UnitGroup(key=key, name=key, graded=graded, units=units)


def test_constructor_refuses_unit_in_two_groups() -> None:
    with pytest.raises(InvalidInput, match="'甲' is listed in group 'a' and again in group 'b'"):
        UnitRegistry([_group("a", "甲"), _group("b", "乙", "甲")])


def test_constructor_refuses_unit_twice_in_a_group() -> None:
    with pytest.raises(InvalidInput, match="twice in group 'a'"):
        UnitRegistry([_group("a", "甲", "甲")])


def test_constructor_refuses_duplicate_group_key() -> None:
    with pytest.raises(InvalidInput, match="group 'a' is defined twice"):
        UnitRegistry([_group("a", "甲"), _group("a", "乙")])


def test_constructor_refuses_alias_to_unknown_unit() -> None:
    with pytest.raises(UnknownUnit, match="alias '丙' points to unknown unit '丁'"):
        UnitRegistry([_group("a", "甲")], {"丙": "丁"})


def test_constructor_refuses_alias_shadowing_a_unit() -> None:
    with pytest.raises(InvalidInput, match="alias '乙' is itself the name of a unit"):
        UnitRegistry([_group("a", "甲", "乙")], {"乙": "甲"})


def test_registry_without_aliases() -> None:
    registry = UnitRegistry([_group("a", "甲", graded=True)])
    assert registry.get("甲") == Unit(name="甲", group="a")
    assert dict(registry.aliases) == {}


# --- broken files ----------------------------------------------------------------------

GOOD = """
[[group]]
key = "district"
name = "各区市场监管局、机场分局"
graded = true
units = ["闵行区市场监管局", "机场分局"]

[[group]]
key = "consumer_council"
name = "各区消保委"
graded = false
units = ["闵行区消保委"]

[aliases]
"闵行市场监管局" = "闵行区市场监管局"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "units.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _refusal(tmp_path: Path, text: str) -> str:
    path = _write(tmp_path, text)
    with pytest.raises(DataFileError) as caught:
        load_unit_registry(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert isinstance(caught.value, HotlineError)
    return message


def test_good_file_loads(tmp_path: Path) -> None:
    registry = load_unit_registry(_write(tmp_path, GOOD))
    assert [g.key for g in registry.groups] == ["district", "consumer_council"]
    assert registry.get("闵行市场监管局").name == "闵行区市场监管局"


def test_aliases_table_is_optional(tmp_path: Path) -> None:
    text = GOOD.split("[aliases]")[0]
    assert len(load_unit_registry(_write(tmp_path, text))) == 3


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace('key = "consumer_council"', 'key "consumer_council"'))
    assert "invalid TOML" in message
    assert "line 9" in message
    assert "column" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match=r"missing\.toml: cannot read"):
        load_unit_registry(tmp_path / "missing.toml")


def test_missing_key(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace("graded = false\n", ""))
    assert message.endswith("units.toml: group[1].graded: Field required")


def test_missing_groups(tmp_path: Path) -> None:
    message = _refusal(tmp_path, '[aliases]\n"甲" = "乙"\n')
    assert message.endswith("units.toml: group: Field required")


def test_wrong_type(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace("graded = false", 'graded = "no"'))
    assert message.endswith("units.toml: group[1].graded: Input should be a valid boolean")


def test_wrong_type_in_unit_list(tmp_path: Path) -> None:
    message = _refusal(
        tmp_path, GOOD.replace('units = ["闵行区消保委"]', 'units = ["闵行区消保委", 3]')
    )
    assert "group[1].units[1]: Input should be a valid string" in message


def test_unknown_key(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace("graded = true", "graded = true\nweight = 1"))
    assert "group[0].weight: Extra inputs are not permitted" in message


def test_empty_unit_name(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace('"机场分局"', '" 机场分局"'))
    assert "group[0].units[1]:" in message
    assert "surrounding whitespace" in message


def test_unit_in_two_groups(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace('["闵行区消保委"]', '["闵行区消保委", "机场分局"]'))
    assert "group[1].units[1]: unit '机场分局' is already listed in group 'district'" in message


def test_duplicate_group_key(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace('key = "consumer_council"', 'key = "district"'))
    assert "group[1].key: group 'district' is already defined at group[0]" in message


def test_alias_to_unknown_unit(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD + '"市药品监管局" = "市药监局"\n')
    assert "aliases.\"市药品监管局\": alias points to unknown unit '市药监局'" in message


def test_alias_shadowing_a_unit(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD + '"机场分局" = "闵行区市场监管局"\n')
    assert "aliases.\"机场分局\": alias '机场分局' is itself the name of a unit" in message


def test_several_problems_are_counted_on_one_line(tmp_path: Path) -> None:
    message = _refusal(tmp_path, GOOD.replace("graded = true", 'graded = "yes"\nextra = 1'))
    assert "(and 1 more problem(s))" in message
