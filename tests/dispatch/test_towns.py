"""Town and street (镇街) recognition from the citizen's location."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.dispatch.towns import TownsError, load_towns, parse_towns


@pytest.fixture(scope="module")
def towns():
    return load_towns()


def test_the_file_lists_4_streets_28_towns_and_the_zones_with_its_source(towns) -> None:
    kinds = [t.kind for t in towns.towns.values()]
    assert kinds.count("street") == 4 and kinds.count("town") == 28
    assert {"songshanhu", "binhaiwan"} <= {t.key for t in towns.towns.values() if t.kind == "zone"}
    raw = yaml.safe_load(Path("data/towns.yml").read_text(encoding="utf-8"))
    assert raw["source"] and raw["checked"]


@pytest.mark.parametrize(
    ("where", "key"),
    [
        ("松木山水库旁边", "dalang"),
        ("黄旗山脚下", "dongcheng"),
        ("槎滘村", "zhongtang"),
        ("厦岗社区", "changan"),
        ("诸佛岭", "tangxia"),
    ],
)
def test_a_community_a_local_knows_names_its_town(towns, where, key) -> None:
    match = towns.find(location=where)
    assert match is not None and match.town.key == key


def test_no_training_description_names_a_town(towns) -> None:
    """The descriptions name no place, so a town found in one is a false match
    of a town's name or place inside an ordinary word."""
    from bot.dispatch.classifier import load_examples

    assert [text for text, _ in load_examples() if towns.find(text)] == []


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("虎门镇北栅社区", "humen"),
        ("虎门", "humen"),
        ("我住在长安镇乌沙", "changan"),
        ("在长安上班", "changan"),
        ("松山湖", "songshanhu"),
        ("松山湖大道旁边", "songshanhu"),
        ("南城街道鸿福路", "nancheng"),
        ("鸿福路第一国际", "nancheng"),  # a well-known place inside it
        ("东莞火车站门口", "changping"),
        ("樟木头观音山脚下", "zhangmutou"),
        ("大岭山", "dalingshan"),
        ("廖步", "liaobu"),  # a common misspelling
        ("高步镇", "gaobu"),
        ("东莞城区的莞城街道", "guancheng"),  # the second mention counts
        ("桥头镇的工业区", "qiaotou"),
        ("长安医院门口", "changan"),
        ("滨海湾", "binhaiwan"),
        ("东莞港那边", "shatian"),
        ("ＷＡＮＪＩＡＮＧ华南ＭＡＬＬ", "wanjiang"),  # full-width letters are normalised
    ],
)
def test_towns_are_found_by_name_short_form_alias_and_place(towns, text: str, key: str) -> None:
    match = towns.find(text)
    assert match is not None and match.town.key == key, text


@pytest.mark.parametrize(
    "text",
    [
        "楼下烧烤店",
        "在桥头等你",
        "长安汽车4S店",
        "水乡那一带",
        "我家附近",
        "",
        "东莞城区",
        "广东城市",
    ],
)
def test_ordinary_words_and_unknown_places_name_no_town(towns, text: str) -> None:
    assert towns.find(text) is None


def test_the_location_is_read_before_the_description(towns) -> None:
    match = towns.find("我在虎门上班，住在厚街", location="厚街镇")
    assert match is not None and match.town.key == "houjie"
    match = towns.find("虎门这边的路灯坏了", location=None)
    assert match is not None and match.town.key == "humen"


def test_a_location_answer_is_a_place_so_ambiguous_short_forms_count(towns) -> None:
    for short, key in (("长安", "changan"), ("桥头", "qiaotou"), ("沙田", "shatian")):
        assert towns.find(short) is None  # free text: maybe a car, a bridge end ...
        match = towns.find("老板不给加班费", location=short)
        assert match is not None and match.town.key == key


def test_the_longest_name_wins(towns) -> None:
    match = towns.find("大岭山镇")
    assert match is not None and match.matched == "大岭山镇"


def test_a_malformed_file_names_the_entry() -> None:
    town = {"key": "a", "name": "甲镇", "kind": "town", "office": "甲镇政府"}
    with pytest.raises(TownsError, match="town 'b'.*already names town 'a'"):
        parse_towns({"towns": [town, {**town, "key": "b", "name": "乙镇", "aliases": ["甲镇"]}]})
    with pytest.raises(TownsError, match="kind must be"):
        parse_towns({"towns": [{**town, "kind": "city"}]})
    with pytest.raises(TownsError, match="unique ascii"):
        parse_towns({"towns": [town, town]})
