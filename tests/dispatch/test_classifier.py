"""The complaint category classifier and the dispatch decision."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.db.routing import RoutingError, load_routing
from bot.dispatch.classifier import (
    BACKGROUND,
    Classifier,
    TrainingDataError,
    load_examples,
    train,
)
from bot.dispatch.dispatcher import complaint_classifier, dispatch


@pytest.fixture(scope="module")
def routing():
    return load_routing()


def test_every_training_file_names_a_routing_category(routing) -> None:
    categories = {category for _, category in load_examples()}
    assert categories <= set(routing.categories) - {"suggestion"}
    assert len(categories - {BACKGROUND}) >= 20


def test_the_background_class_lowers_the_confidence_and_is_never_predicted() -> None:
    base = [("楼下好吵", "noise"), ("工资没发", "wages")] * 3
    framed = Classifier().fit([*base, ("我要投诉 请尽快处理", BACKGROUND)])
    plain = Classifier().fit(base)
    assert framed.predict("我要投诉").category in {"noise", "wages"}
    assert framed.predict("我要投诉").confidence < plain.predict("我要投诉").confidence
    assert framed.predict("我要投诉 工资没发").category == "wages"
    with pytest.raises(TrainingDataError):
        Classifier().fit([("我要投诉", BACKGROUND)])


def test_training_is_well_under_a_second(routing) -> None:
    keywords = {k: c.keywords for k, c in routing.categories.items() if k != "other"}
    started = time.process_time()  # CPU time: the shared machine's load does not count
    train(keywords)
    assert time.process_time() - started < 1.0


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("楼下烧烤店天天晚上吵到凌晨", "noise"),  # issue 18: "吵到" is no keyword
        ("老板三个月没发工资了", "wages"),
        ("外卖里面吃出一条虫", "food_safety"),
        ("房东退租时扣了我全部押金", "housing"),
        ("马路上一个大坑好危险", "roads"),
    ],
)
def test_clear_complaints_get_their_category_with_confidence(routing, text, category) -> None:
    prediction = complaint_classifier(routing).predict(text)
    assert prediction.category == category
    assert prediction.confidence >= routing.min_confidence
    assert abs(sum(p for _, p in prediction.ranking) - 1) < 1e-9


def test_the_keyword_list_is_a_feature() -> None:
    base = [("今天天气不错", "a"), ("明天会下雨", "b")] * 3
    plain = Classifier().fit(base)
    with_keywords = Classifier({"b": ["怪兽"]}).fit(base)
    assert with_keywords.predict("怪兽来了").category == "b"
    assert with_keywords.predict("怪兽来了").confidence > plain.predict("怪兽来了").confidence


def test_pinyin_input_homophones_are_repaired_into_known_words() -> None:
    base = [("老板拖欠工资", "wages"), ("工资三个月没发", "wages"), ("工资不给", "wages")]
    base += [("员工自己出钱买工衣", "labour")] * 3 + [("路灯坏了", "roads")]
    classifier = Classifier().fit(base)
    assert classifier.repair("工姿拖了两个月") == "工资拖了两个月"  # gōng zī: 姿 for 资
    assert classifier.predict("工姿拖了两个月").category == "wages"
    # 工自 sounds like 工资 but 员工 and 自己 are known pairs: nothing is repaired
    assert classifier.repair("员工自己出") == "员工自己出"
    # a pair seen fewer than MIN_REPAIR_COUNT times is no repair target
    assert classifier.repair("鹿灯") == "鹿灯"
    assert Classifier().fit([("路灯坏了", "roads")] * 3).repair("鹿灯") == "路灯"


def test_a_vague_complaint_goes_to_the_triage_desk_flagged(routing) -> None:
    sent = dispatch(routing, "我要投诉这个事情", "长安镇")
    assert sent.needs_review and sent.confidence is not None
    assert sent.confidence < routing.min_confidence
    assert sent.route.department == "triage"
    assert sent.town == "changan"


@pytest.mark.parametrize("text", ["我要投诉", "我想反映一个情况", "你们到底管不管"])
def test_a_message_with_almost_nothing_to_go_on_is_flagged(routing, text) -> None:
    assert dispatch(routing, text).needs_review


@pytest.mark.parametrize("text", ["欠薪", "停水", "路灯坏了", "垃圾没人收", "噪音扰民"])
def test_a_short_complaint_with_a_clear_word_is_not_flagged(routing, text) -> None:
    assert not dispatch(routing, text).needs_review


def test_street_level_matters_go_to_the_town_and_city_matters_to_the_bureau(routing) -> None:
    noise = dispatch(routing, "楼下烧烤店天天晚上吵到凌晨", "虎门镇北栅")
    assert (noise.category, noise.town, noise.needs_review) == ("noise", "humen", False)
    assert (
        noise.route.department == "town_humen" and noise.route.department_name == "虎门镇人民政府"
    )
    assert noise.route.deadline_days == routing.categories["noise"].route.deadline_days
    wages = dispatch(routing, "老板三个月没发工资了", "虎门镇")
    assert wages.town == "humen" and wages.route.department == "human_resources"
    nowhere = dispatch(routing, "楼下烧烤店天天晚上吵到凌晨", "不知道")
    assert nowhere.town is None and nowhere.route.department == "ecology_environment"


def test_suggestions_are_not_classified_but_keep_their_town(routing) -> None:
    sent = dispatch(routing, "建议在公园多装几个路灯", "松山湖", kind="suggestion")
    assert (sent.category, sent.confidence, sent.town) == ("suggestion", None, "songshanhu")
    assert sent.route.department == "suggestion_desk"


def test_town_offices_are_departments_for_assigning_by_hand(routing) -> None:
    assert routing.departments["town_songshanhu"][0] == "松山湖管委会"
    assert routing.department_route("town_nancheng").department_name == "南城街道办事处"


def test_bad_training_data_names_the_file_and_entry(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text("category: noise\nexamples: [好吵, '']\n", encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"a\.yml: example 2"):
        load_examples(tmp_path)
    with pytest.raises(TrainingDataError, match="no \\*.yml"):
        load_examples(tmp_path / "none")


def test_bad_routing_levels_and_thresholds_are_refused(tmp_path: Path) -> None:
    text = Path("data/routing.yml").read_text(encoding="utf-8")
    (tmp_path / "towns.yml").write_text(
        Path("data/towns.yml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    bad = tmp_path / "routing.yml"
    bad.write_text(text.replace("min_confidence: 0.35", "min_confidence: 2"), encoding="utf-8")
    with pytest.raises(RoutingError, match="min_confidence"):
        load_routing(bad)
    bad.write_text(text.replace("    level: town", "    level: county", 1), encoding="utf-8")
    with pytest.raises(RoutingError, match="category 'noise': level must be"):
        load_routing(bad)
    bad.write_text(text.replace("towns: towns.yml", "towns: missing.yml"), encoding="utf-8")
    with pytest.raises(RoutingError, match="towns: .*cannot read"):
        load_routing(bad)


def test_warm_up_trains_before_the_first_complaint(tmp_path: Path, monkeypatch) -> None:
    from bot.dispatch import classifier, dispatcher

    classifier._cached.cache_clear()
    assert dispatcher.warm_up() is True
    assert classifier._cached.cache_info().currsize == 1
    monkeypatch.setattr(classifier, "DATA_DIR", tmp_path)  # no training files
    monkeypatch.setattr(
        dispatcher, "complaint_classifier", lambda r: classifier.classifier_for({}, tmp_path)
    )
    assert dispatcher.warm_up() is False  # logged, not raised


def test_the_action_server_warms_the_classifier_up_at_start() -> None:
    from sanic import Sanic

    from bot.action_server import _warm_up_dispatch, create_app

    app = create_app("actions", "a-token-for-the-test")
    try:
        registered = [f.listener for f in app._future_listeners]
    finally:
        Sanic.unregister_app(app)  # Sanic refuses a second app of the same name
    assert _warm_up_dispatch in registered


def test_the_location_answer_alone_names_an_ambiguous_town(routing) -> None:
    sent = dispatch(routing, "老板不给加班费还骂人", "长安")
    assert sent.town == "changan"
    assert dispatch(routing, "长安汽车的4S店乱收保养费", None).town is None
