"""Open Multilingual WordNet lemmas from a local WN-LMF file via ``wn`` (no download)."""

from __future__ import annotations

import wn

from curation.metadata.sources.wordnet import wordnet_entries, wordnet_lang_to_wiki

WN_LMF = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE LexicalResource SYSTEM "http://globalwordnet.github.io/schemas/WN-LMF-1.1.dtd">
<LexicalResource xmlns:dc="https://globalwordnet.github.io/schemas/dc/">
{lexicons}
</LexicalResource>
"""
LEXICON = """  <Lexicon id="{id}" label="{id}" language="{lang}" email="a@example.org"
           license="https://creativecommons.org/licenses/by/4.0/" version="1.0">
{entries}
{synsets}
  </Lexicon>"""


def _lexicon(lex_id: str, lang: str, lemmas: list[str]) -> str:
    entries, synsets = [], []
    for i, lemma in enumerate(lemmas):
        entries.append(f'    <LexicalEntry id="{lex_id}-e{i}">\n      <Lemma writtenForm="{lemma}" partOfSpeech="n"/>\n'
                       f'      <Sense id="{lex_id}-s{i}" synset="{lex_id}-{i}-n"/>\n    </LexicalEntry>')
        synsets.append(f'    <Synset id="{lex_id}-{i}-n" ili="i{i + 1}" partOfSpeech="n"/>')
    return LEXICON.format(id=lex_id, lang=lang, entries="\n".join(entries), synsets="\n".join(synsets))


def write_wn_lmf(path) -> str:
    lexicons = [_lexicon("t-en", "en", ["dog", "hot_dog", "C++", "dog"]),
                _lexicon("t-ja", "ja", ["犬", "子+犬"]),
                _lexicon("t-cmn", "cmn-Hans", ["狗", "热+狗"]),
                _lexicon("t-als", "als", ["qen"])]
    path.write_text(WN_LMF.format(lexicons="\n".join(lexicons)), encoding="utf-8")
    return str(path)


def test_lemmas_per_wikipedia_language_without_touching_wn_config(tmp_path):
    before = wn.config.data_directory
    entries = wordnet_entries([write_wn_lmf(tmp_path / "sample.xml")])
    assert wn.config.data_directory == before
    assert entries == {"en": ["C++", "dog", "hot dog"], "ja": ["子犬", "犬"], "sq": ["qen"], "zh": ["热狗", "狗"]}


def test_explicit_data_directory_is_reused(tmp_path):
    data_dir = str(tmp_path / "wn-data")
    first = wordnet_entries([write_wn_lmf(tmp_path / "sample.xml")], data_dir)
    assert wordnet_entries([], data_dir) == first  # lexicons already imported are read again


def test_language_code_mapping():
    assert [wordnet_lang_to_wiki(c) for c in ("cmn-Hans", "zsm", "arb", "nb", "en", "ja", "als", "pt-BR")] == \
        ["zh", "ms", "ar", "no", "en", "ja", "sq", "pt"]
