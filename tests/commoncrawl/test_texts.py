"""Text selection (MetaCLIP's attribute order), cleaning and the declared language."""

import pytest

from curation.commoncrawl.texts import TEXT_ATTRS, clean_text, declared_language, normalise_lang, select_texts


def test_metaclip_attribute_order():
    assert TEXT_ATTRS == ("alt", "title", "data-image-title")


@pytest.mark.parametrize("value, expected", [
    ("  A red car  ", "A red car"), ("two\nlines", "two lines"), ("crlf\r\nend", "crlf  end"),
    ("\n\r ", None), ("", None), (None, None), (42, None), ("tab\tkept", "tab\tkept"),
])
def test_clean_text(value, expected):
    assert clean_text(value) == expected


ATTRS = {"alt": "A dog", "title": "Dog photo", "data-image-title": "IMG_0001"}


def test_all_mode_keeps_every_attribute_in_order():
    assert select_texts(ATTRS) == [("alt", "A dog"), ("title", "Dog photo"), ("data-image-title", "IMG_0001")]


def test_all_mode_skips_missing_empty_and_repeated_texts():
    assert select_texts({"alt": None, "title": "T", "data-image-title": None}) == [("title", "T")]
    assert select_texts({"alt": "Same", "title": "Same", "data-image-title": "Other"}) == [
        ("alt", "Same"), ("data-image-title", "Other")]
    assert select_texts({"alt": None, "title": None, "data-image-title": None}) == []


def test_first_mode_and_custom_order():
    assert select_texts(ATTRS, mode="first") == [("alt", "A dog")]
    assert select_texts({"alt": None, "title": "T", "data-image-title": "D"}, mode="first") == [("title", "T")]
    assert select_texts(ATTRS, ("title", "alt"), "all") == [("title", "Dog photo"), ("alt", "A dog")]
    assert select_texts({"alt": None, "title": "T"}, ("alt",)) == []


@pytest.mark.parametrize("value, expected", [
    ("en", "en"), ("en-US", "en-us"), ("pt_BR", "pt-br"), ("zh-Hant-TW", "zh-hant-tw"), (" de ", "de"),
    ("fr, en", "fr"), ("en;q=0.8", "en"), (["de", "en"], "de"), ([], None), ("english", None),
    ("{{lang}}", None), ("*", None), ("", None), (None, None), ("e", None), ("en-", None),
])
def test_normalise_lang(value, expected):
    assert normalise_lang(value) == expected


def test_declared_language_precedence():
    assert declared_language("en", "de", "fr") == "en"  # <html lang> first
    assert declared_language(None, "de", "fr") == "de"  # then <meta http-equiv>
    assert declared_language("", "bogus value", "fr-CA") == "fr-ca"  # invalid values fall through
    assert declared_language() is None
