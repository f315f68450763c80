"""Content files: what the routine says, and clear errors when a file is broken."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from skill.content.loader import CONTENT_DIR, LOCALES, ContentError, load_from


@pytest.fixture
def tree(tmp_path):
    """A copy of the content tree to break."""
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    return root


def edit(path, change):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_the_article_routine_in_order(content):
    assert [s.id for s in content.routine.steps] == [
        "twist_reset", "inner_squeeze", "squeeze_lift", "side_lying", "balance"]
    for locale in LOCALES:
        lc = content.for_locale(locale)
        assert len(lc.steps) == 5 and len(lc.faq) >= 7
        assert {"no_ball", "swelling_heat", "every_day", "how_long", "advanced_oa", "cautions",
                "equipment", "why_vmo"} <= set(lc.faq)
        for step in lc.steps:
            assert step.title and step.purpose and step.setup and step.tips and step.mistakes


def test_both_locales_have_the_same_prompt_keys(content):
    en, ja = content.for_locale("en-US"), content.for_locale("ja-JP")
    assert set(en.prompts) == set(ja.prompts)
    assert set(en.faq) == set(ja.faq)


def test_first_use_disclaimer_says_not_medical_advice(content):
    assert "not a substitute for medical advice" in content.for_locale("en-US").prompt("disclaimer")
    assert "代わりにはなりません" in content.for_locale("ja-JP").prompt("disclaimer")


def test_unknown_locale_falls_back_to_english(content):
    assert content.for_locale("fr-FR").locale == "en-US"
    assert content.for_locale(None).locale == "en-US"


@pytest.mark.parametrize("file, change, field", [
    ("ja-JP/routine.yaml", lambda d: d["steps"][0].pop("title"), "steps[0].title"),
    ("en-US/routine.yaml", lambda d: d["steps"][2]["cues"].pop("lift"), "steps[2].cues.lift"),
    ("en-US/prompts.yaml", lambda d: d.update(goodbye="Bye {name}"), "goodbye"),
    ("en-US/prompts.yaml", lambda d: d.update(welcome_back=[]), "welcome_back"),
    ("ja-JP/prompts.yaml", lambda d: d.pop("ask_intro"), "ask_intro"),
    ("ja-JP/faq.yaml", lambda d: d["topics"][1].pop("answer"), "topics[1].answer"),
    ("en-US/locale.yaml", lambda d: d["speech_rate"].update(unit="syllables"),
     "speech_rate.unit"),
    ("routine.yaml", lambda d: d["steps"][1].update(sides="sometimes"), "steps[1].sides"),
    ("routine.yaml", lambda d: d["steps"][0]["phases"][0].update(seconds="ten"),
     "steps[0].phases[0].seconds"),
    ("routine.yaml", lambda d: d["steps"][4].update(id="twist_reset"), "steps[4].id"),
])
def test_a_broken_file_names_the_file_and_the_field(tree, file, change, field):
    edit(tree / file, change)
    with pytest.raises(ContentError) as err:
        load_from(tree)
    assert err.value.path.endswith(file) and err.value.field == field
    assert file.split("/")[-1] in str(err.value) and field in str(err.value)


def test_invalid_yaml_and_missing_files_are_reported(tree):
    (tree / "ja-JP" / "faq.yaml").write_text("topics: [unclosed", encoding="utf-8")
    with pytest.raises(ContentError, match=r"faq\.yaml: \(file\): not valid YAML"):
        load_from(tree)
    (tree / "ja-JP" / "faq.yaml").unlink()
    with pytest.raises(ContentError, match=r"faq\.yaml: \(file\): missing"):
        load_from(tree)


def parsed_by_a_new_process(tree) -> list[str]:
    """The files a fresh load of ``tree`` parses (the rest come from the cache)."""
    from skill.content.files import ContentFiles
    from skill.content.loader import load_locale, load_routine

    files = ContentFiles(tree)
    routine = load_routine(files, tree / "routine.yaml")
    for locale in LOCALES:
        load_locale(files, tree / locale, locale, routine)
    return files.parsed


def test_parsed_content_is_kept_and_an_edited_file_is_read_afresh(tree):
    from skill.content.files import CACHE

    first = load_from(tree)
    assert (tree / CACHE).is_file()
    assert parsed_by_a_new_process(tree) == []  # the next process needs no YAML parsing
    edit(tree / "en-US" / "prompts.yaml", lambda d: d.update(goodbye="See you soon."))
    assert parsed_by_a_new_process(tree) == ["en-US/prompts.yaml"]
    second = load_from(tree)
    assert second.for_locale("en-US").prompt("goodbye") == "See you soon."
    assert first.for_locale("en-US").prompt("goodbye") != "See you soon."
    assert parsed_by_a_new_process(tree) == []  # kept again, as edited


def test_an_edit_of_the_same_size_and_time_is_read_afresh(tree):
    path = tree / "en-US" / "prompts.yaml"
    before = load_from(tree).for_locale("en-US").prompt("goodbye")
    stat = path.stat()
    text = path.read_text(encoding="utf-8")
    changed = before.replace(before[0], "Z" if before[0] != "Z" else "Y", 1)
    assert len(changed.encode()) == len(before.encode()) and text.count(before) >= 1
    path.write_text(text.replace(before, changed), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert load_from(tree).for_locale("en-US").prompt("goodbye") == changed


@pytest.mark.parametrize("damage", [b"", b"garbage", None])
def test_a_damaged_cache_is_ignored_and_written_again(tree, damage):
    from skill.content.files import CACHE

    expected = load_from(tree)
    cache = tree / CACHE
    good = cache.read_bytes()
    cache.write_bytes(good[: len(good) // 2] if damage is None else damage)
    assert load_from(tree) == expected
    assert cache.read_bytes() == good
    assert parsed_by_a_new_process(tree) == []


def test_a_tree_where_no_cache_can_be_written_loads_all_the_same(tree):
    expected = load_from(tree)
    shutil.rmtree(tree / "__pycache__")
    (tree / "__pycache__").write_text("not a directory", encoding="utf-8")
    assert load_from(tree) == expected
    assert "en-US/prompts.yaml" in parsed_by_a_new_process(tree)  # nothing kept: parsed again


def test_a_broken_file_is_reported_even_with_a_cache(tree):
    load_from(tree)
    (tree / "en-US" / "faq.yaml").write_text("topics: [unclosed", encoding="utf-8")
    with pytest.raises(ContentError, match="not valid YAML"):
        load_from(tree)


def test_the_loaded_content_cannot_be_changed(content):
    lc = content.for_locale("en-US")
    step, topic = lc.steps[0], next(iter(lc.faq.values()))
    for record, name in ((content, "locales"), (lc, "prompts"), (lc.rate, "per_second"),
                         (step, "title"), (topic, "answer")):
        with pytest.raises(AttributeError):
            setattr(record, name, "changed")
    with pytest.raises(TypeError):
        lc.prompts["goodbye"] = ("changed",)
    with pytest.raises(TypeError):
        step.cues["lift"] = "changed"
    assert lc.prompt("goodbye") != "changed"
