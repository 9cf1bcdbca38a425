"""The knowledge JSON (what an LLM would answer) is validated before any work."""

from __future__ import annotations

import json

import pytest

from training.coder.knowledge import BankTemplates, KnowledgeSource, load_knowledge, parse_knowledge

CLASSES = {"en": ["red circle", "red square"], "fr": ["cercle rouge", "carré rouge"]}
DOC = {"languages": {
    "en": {"templates": {"attribute": ["a photo of {c}, which has {x}."]},
           "classes": {"red circle": {"attributes": ["a round  outline", "a round outline", "red"],
                                      "analogous": ["a tomato", "a ball"],
                                      "differences": {"red square": ["no corners"]}}}},
    "fr": {"classes": {"carré rouge": {"attributes": ["quatre coins"]}}},
}}


def test_sections_become_knowledge_sources(tmp_path):
    path = tmp_path / "k.json"
    path.write_text(json.dumps(DOC), encoding="utf-8")
    k = load_knowledge(str(path), CLASSES)
    en = k["en"]
    assert isinstance(en, KnowledgeSource)
    assert en.attributes("red circle") == ["a round outline", "red"]  # whitespace collapsed, duplicate dropped
    assert en.attributes("red square") == []  # a class may be absent
    assert en.analogous("red circle", None, ()) == ["a tomato", "a ball"]
    assert en.analogous("red circle", 1, ["a tomato"]) == ["a ball"]
    assert en.differences("red circle") == {"red square": ["no corners"]}
    assert en.templates == {"attribute": ("a photo of {c}, which has {x}.",)}  # only the kinds it sets
    assert k["fr"].templates == {}
    changed = json.loads(json.dumps(DOC))
    changed["languages"]["en"]["classes"]["red circle"]["analogous"].append("a cherry")
    assert parse_knowledge(changed)["en"].fingerprint != en.fingerprint
    assert parse_knowledge(DOC)["fr"].fingerprint == k["fr"].fingerprint


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("languages"), "must be"),
    (lambda d: d["languages"]["en"].update(extra=1), "unknown keys"),
    (lambda d: d["languages"]["en"]["classes"]["red circle"].update(colour="red"), "unknown keys"),
    (lambda d: d["languages"]["en"]["classes"].update({"green circle": {}}), "not a class name"),
    (lambda d: d["languages"]["en"]["classes"]["red circle"]["differences"].update({"blue": ["x"]}), "not a class"),
    (lambda d: d["languages"]["en"]["classes"]["red circle"]["differences"].update({"red circle": ["x"]}), "itself"),
    (lambda d: d["languages"]["en"]["classes"]["red circle"].update(attributes="round"), "list of strings"),
    (lambda d: d["languages"]["en"]["classes"]["red circle"].update(attributes=["", "x"]), "non-empty"),
    (lambda d: d["languages"]["en"]["templates"].update(name=["a photo of {}."]), "named fields"),
    (lambda d: d["languages"]["en"]["templates"].update(attribute=["{c} has"]), "must use"),
    (lambda d: d["languages"]["en"]["templates"].update(ovo=["{x} {y}"]), "must use"),
    (lambda d: d["languages"].update(de={}), "no language"),
])
def test_bad_documents_are_rejected(mutate, message):
    doc = json.loads(json.dumps(DOC))
    mutate(doc)
    with pytest.raises(ValueError, match=message):
        parse_knowledge(doc, CLASSES)


def test_templates_from_a_class_file():
    t = BankTemplates.from_class_file(["a photo of a {}.", "a {} on the left"])
    assert t.name == ("a photo of a {c}.", "a {c} on the left")
    with pytest.raises(ValueError, match="non-empty"):
        BankTemplates(name=())
