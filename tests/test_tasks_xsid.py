"""The xSID reader against the shipped files and hand-written CoNLL."""

import pytest

import xlnb.tasks.xsid  # noqa: F401 - registers the task
from xlnb.tasks import get_task
from xlnb.tasks.xsid import read_conll, slots_from_bio

CONLL = """# text = Is it going to rain today?
# intent = weather/find
1\tIs\tweather/find\tO
2\train\tweather/find\tB-weather/attribute
3\ttoday\tweather/find\tB-datetime

# id = 7
# text = 显示所有的提醒
1\t显示\treminder/show\tO
2\t所有\treminder/show\tB-reference
3\t的\treminder/show\tI-reference
4\t提醒\treminder/show\tO
"""


def test_read_conll_and_slots(tmp_path):
    file = tmp_path / "x.test.conll"
    file.write_text(CONLL, encoding="utf-8")
    first, second = read_conll(file)
    assert first["id"] == "1" and second["id"] == "7"
    assert slots_from_bio(first["text"], first["tokens"], first["tags"]) == [
        ("weather_attribute", "rain"), ("datetime", "today")]
    # a span of two Chinese tokens is the text they cover, without a space
    assert slots_from_bio(second["text"], second["tokens"], second["tags"]) == [("reference", "所有的")]
    # two B- of one type are two slots; a lone I- opens one
    assert slots_from_bio("a b c", ["a", "b", "c"], ["B-x", "B-x", "I-y"]) == [
        ("x", "a"), ("x", "b"), ("y", "c")]
    file.write_text("# text = a\n1\ta\tO\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        read_conll(file)


def test_shipped_files(shared_data):
    task = get_task("xsid")
    train = task.load("en", "train", path=str(shared_data))
    dev = task.load("en", "dev", path=str(shared_data))
    # en.valid.conll: 300 utterances, 60 of them for dev, no overlap
    assert len(train) == 240 and len(dev) == 60
    assert not {e.id for e in train} & {e.id for e in dev}
    test = task.load("de", "test", path=str(shared_data / "xsid"))
    assert len(test) == 500 and len(task.load("ja", "test", path=str(shared_data))) == 250
    # "# id = 2": Benötige ich einen Pullover? -> Pullover is a weather/attribute
    second = next(e for e in test if e.id == "2")
    assert second.target == "weather_attribute: Pullover"
    assert task.score([second.target], [second])["f1"] == 1.0
    assert len(task.load("de", "test", n=20, path=str(shared_data))) == 20
    with pytest.raises(ValueError, match="English only"):
        task.load("de", "train", path=str(shared_data))
    with pytest.raises(FileNotFoundError, match="'xx'"):
        task.load("xx", "test", path=str(shared_data))
