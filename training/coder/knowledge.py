"""What the text bank says about each class: templates and "expert knowledge" (attributes,
analogous classes, one-vs-one differences), from a JSON file or a pluggable generator.

CODER's Auto Text Generator asks an LLM three questions per class (METHODS.md §2): which visual
features identify it, which objects look like it, and how it differs from each confusable class.
Nothing here calls an LLM: the answers come from a **knowledge JSON** (what an LLM, or a person,
would write), or from any object implementing :class:`KnowledgeSource` (e.g. a wrapper around a
local LLM). The format, one section per language (codes as in the class file)::

    {
      "languages": {
        "en": {
          "templates": {                                   # optional, per kind; defaults below
            "name":      ["a photo of {c}."],              # {c} = class name (or synonym)
            "attribute": ["{c} which has {x}"],            # {x} = the attribute
            "analogous": ["a {c} similar to {x}."],        # {x} = the look-alike object
            "ovo":       ["Because of {x}, {c} is different from {o}."]   # {o} = the other class
          },
          "classes": {
            "red circle": {                                # a class name of that language
              "attributes": ["a round outline", "a red colour"],
              "analogous": ["a tomato", "a stop sign"],
              "differences": {"red square": ["a round outline with no corners"]}
            }
          }
        }
      }
    }

Every key is optional except ``languages``; unknown keys are errors; a class may be absent (it
then has only name/synonym texts). ``differences[o]`` lists how the class differs from class
``o`` ("ovo(c vs o)"); CODER* uses a pair only when both directions are given.
"""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

DEFAULT_NAME_TEMPLATES = ("a photo of {c}.",)
DEFAULT_ATTRIBUTE_TEMPLATES = ("{c} which has {x}",)
DEFAULT_ANALOGOUS_TEMPLATES = ("a {c} similar to {x}.",)
DEFAULT_OVO_TEMPLATES = (
    "Because of {x}, {c} is different from {o}.",
    "{c} is characterized by {x}, while {o} isn't.",
    "{c} stands out in {x} compared to {o}.",
)
# Placeholders each template kind may use, and the one it must use.
_ALLOWED = {"name": ({"c"}, "c"), "attribute": ({"c", "x"}, "x"), "analogous": ({"c", "x"}, "x"),
            "ovo": ({"c", "x", "o"}, "x")}
_CLASS_KEYS = {"attributes", "analogous", "differences"}
_SECTION_KEYS = {"templates", "classes"}


@dataclass(frozen=True)
class BankTemplates:
    """Text templates per kind; ``{c}`` class, ``{x}`` attribute/look-alike/difference, ``{o}`` other class."""

    name: tuple[str, ...] = DEFAULT_NAME_TEMPLATES
    attribute: tuple[str, ...] = DEFAULT_ATTRIBUTE_TEMPLATES
    analogous: tuple[str, ...] = DEFAULT_ANALOGOUS_TEMPLATES
    ovo: tuple[str, ...] = DEFAULT_OVO_TEMPLATES

    def __post_init__(self):
        for kind, (allowed, required) in _ALLOWED.items():
            temps = getattr(self, kind)
            if isinstance(temps, str) or not temps:
                raise ValueError(f"{kind} templates must be a non-empty list of strings")
            object.__setattr__(self, kind, tuple(temps))
            for t in temps:
                fields = _fields(t)
                if required not in fields or not fields <= allowed:
                    raise ValueError(f"{kind} template {t!r} must use {{{required}}} and only "
                                     f"{sorted('{' + a + '}' for a in allowed)}")

    @classmethod
    def from_class_file(cls, templates: Sequence[str], **overrides) -> BankTemplates:
        """Name templates from a zero-shot class file (``{}`` = class name), other kinds default."""
        return cls(name=tuple(t.replace("{}", "{c}") for t in templates), **overrides)


@runtime_checkable
class KnowledgeSource(Protocol):
    """What CODER's text generator answers for a class; implement it to plug in an LLM.

    ``fingerprint`` identifies the answers (it keys the bank cache): two sources with the same
    fingerprint must give the same texts.
    """

    fingerprint: str

    def attributes(self, classname: str) -> list[str]:
        """Visual features that identify the class."""

    def analogous(self, classname: str, n: int | None, avoid: Sequence[str]) -> list[str]:
        """Up to ``n`` (None: all) objects that look like the class, none of them in ``avoid``
        (called again for replacements of rejected ones)."""

    def differences(self, classname: str) -> dict[str, list[str]]:
        """``{other class: [how this class differs from it]}`` for the pairs worth describing."""


@dataclass
class ClassKnowledge:
    attributes: list[str] = field(default_factory=list)
    analogous: list[str] = field(default_factory=list)
    differences: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class JsonKnowledge:
    """The :class:`KnowledgeSource` of one language section of a knowledge JSON."""

    classes: dict[str, ClassKnowledge]
    templates: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the kinds the section sets
    fingerprint: str = ""

    def attributes(self, classname: str) -> list[str]:
        return list(self.classes.get(classname, ClassKnowledge()).attributes)

    def analogous(self, classname: str, n: int | None, avoid: Sequence[str]) -> list[str]:
        banned = set(avoid)
        out = [x for x in self.classes.get(classname, ClassKnowledge()).analogous if x not in banned]
        return out if n is None else out[:n]

    def differences(self, classname: str) -> dict[str, list[str]]:
        return {o: list(v) for o, v in self.classes.get(classname, ClassKnowledge()).differences.items()}


EMPTY_KNOWLEDGE = JsonKnowledge(classes={}, fingerprint="none")


def parse_knowledge(doc: Mapping, classnames: Mapping[str, Sequence[str]] | None = None) -> dict[str, JsonKnowledge]:
    """``{language: JsonKnowledge}`` from a parsed knowledge JSON, validated before any work.

    With ``classnames`` (``{language: class names}`` from the class file), every class named in a
    section — as a key or as a ``differences`` target — must be a class of that language.
    """
    if not isinstance(doc, Mapping) or set(doc) != {"languages"} or not isinstance(doc["languages"], Mapping):
        raise ValueError('knowledge JSON must be {"languages": {lang: {...}}}')
    out = {}
    for lang, section in doc["languages"].items():
        where = f"knowledge[{lang!r}]"
        _keys(section, _SECTION_KEYS, where)
        templates: dict[str, tuple[str, ...]] = {}
        if "templates" in section:
            _keys(section["templates"], set(_ALLOWED), f"{where}.templates")
            templates = {k: tuple(_strings(v, f"{where}.templates.{k}")) for k, v in section["templates"].items()}
            BankTemplates(**templates)  # validates the placeholders
        known = set(classnames[lang]) if classnames is not None and lang in classnames else None
        if classnames is not None and lang not in classnames:
            raise ValueError(f"{where}: the class file has no language {lang!r}")
        classes = {}
        for name, entry in _mapping(section.get("classes", {}), f"{where}.classes").items():
            w = f"{where}.classes[{name!r}]"
            _keys(entry, _CLASS_KEYS, w)
            diffs = {o: _strings(v, f"{w}.differences[{o!r}]")
                     for o, v in _mapping(entry.get("differences", {}), f"{w}.differences").items()}
            for c in [name, *diffs]:
                if known is not None and c not in known:
                    raise ValueError(f"{w}: {c!r} is not a class name of language {lang!r}")
            if name in diffs:
                raise ValueError(f"{w}: a class cannot differ from itself")
            classes[name] = ClassKnowledge(_strings(entry.get("attributes", []), f"{w}.attributes"),
                                           _strings(entry.get("analogous", []), f"{w}.analogous"), diffs)
        digest = hashlib.sha256(json.dumps(section, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
        out[lang] = JsonKnowledge(classes, templates, fingerprint=f"json:{digest}")
    return out


def load_knowledge(path: str, classnames: Mapping[str, Sequence[str]] | None = None) -> dict[str, JsonKnowledge]:
    with open(path, encoding="utf-8") as f:
        return parse_knowledge(json.load(f), classnames)


def _fields(template: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template {template!r}: {exc}") from None
    names = {f for _, f, _, _ in parsed if f is not None}
    if "" in names:
        raise ValueError(f"template {template!r}: use named fields {{c}}, {{x}}, {{o}}, not {{}}")
    return names


def _keys(obj, allowed: set[str], where: str) -> None:
    if not isinstance(obj, Mapping):
        raise ValueError(f"{where} must be an object")
    extra = sorted(set(obj) - allowed)
    if extra:
        raise ValueError(f"{where}: unknown keys {extra}; allowed {sorted(allowed)}")


def _mapping(obj, where: str) -> Mapping:
    if not isinstance(obj, Mapping):
        raise ValueError(f"{where} must be an object")
    return obj


def _strings(obj, where: str) -> list[str]:
    """A list of non-empty strings, whitespace collapsed, duplicates dropped (first kept)."""
    if isinstance(obj, str) or not isinstance(obj, Sequence):
        raise ValueError(f"{where} must be a list of strings")
    out: list[str] = []
    for v in obj:
        if not isinstance(v, str) or not v.strip():
            raise ValueError(f"{where}: every entry must be a non-empty string, got {v!r}")
        v = " ".join(v.split())
        if v not in out:
            out.append(v)
    return out
