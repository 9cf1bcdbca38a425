"""WordNet synonyms: the synset whose definition best matches the name prompt, from a local WN-LMF file."""

from __future__ import annotations

import numpy as np
import pytest
import wn

from tests.training.coder.conftest import FakeEmbedder, unit
from training.coder.synonyms import choose_synset, synonyms_from_lemmas, wordnet_synonyms

MACHINE, BIRD = "lifts and moves heavy objects", "large long-necked wading bird"


def _embed(query_vec, machine=None, bird=None, query="a photo of crane."):
    machine = unit(1) if machine is None else machine
    bird = unit(0, 1, 0.5) if bird is None else bird
    return FakeEmbedder({query: query_vec, MACHINE: machine, BIRD: bird})


def test_picks_the_sense_whose_definition_matches_the_name_prompt(wn_lmf):
    before = wn.config.data_directory
    assert wordnet_synonyms(["crane"], "en", [wn_lmf], _embed(unit(0))) == [["Grus", "wading bird"]]
    assert wordnet_synonyms(["crane"], "en", [wn_lmf], _embed(unit(1))) == [["derrick"]]
    assert wn.config.data_directory == before  # the user's wn data directory is untouched


def test_equal_matches_take_the_first_listed_sense(wn_lmf):
    embed = _embed(unit(0), machine=unit(2), bird=unit(2))
    assert wordnet_synonyms(["crane"], "en", [wn_lmf], embed) == [["derrick"]]


def test_nouns_only_unknown_words_and_synsets_without_definition(wn_lmf):
    embed = FakeEmbedder()
    out = wordnet_synonyms(["stretch", "unicorn", "hot dog", "hot_dog"], "en", [wn_lmf], embed)
    assert out == [[], [], ["frankfurter"], ["frankfurter"]]
    # the definition-less synset was scored on its lemmas
    assert any("hot dog, frankfurter" in texts for texts in embed.calls)


def test_other_language_borrows_definitions_through_ili(wn_lmf):
    embed = _embed(unit(0), query="une photo de grue.")
    out = wordnet_synonyms(["grue"], "fr", [wn_lmf], embed, name_template="une photo de {c}.")
    assert out == [["grue cendrée"]]
    assert any(BIRD in texts for texts in embed.calls)
    assert wordnet_synonyms(["Kran"], "de", [wn_lmf], embed) == [[]]  # no German lexicon


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="WordNet file"):
        wordnet_synonyms(["crane"], "en", [str(tmp_path / "nope.xml")], FakeEmbedder())


def test_pure_helpers():
    assert choose_synset(np.array([1.0, 0.0]), np.array([[0.0, 1.0], [0.5, 0.5], [0.5, 0.1]])) == 1
    with pytest.raises(ValueError):
        choose_synset(np.array([1.0, 0.0]), np.zeros((0, 2)))
    assert synonyms_from_lemmas(["Crane", "grus", "Grus", "wading_bird"], "crane", "en") == ["grus", "wading bird"]
    assert synonyms_from_lemmas(["热+狗", "狗"], "狗", "zh") == ["热狗"]
