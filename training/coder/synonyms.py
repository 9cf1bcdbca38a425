"""Class-name synonyms from WordNet (local WN-LMF files through ``wn``; nothing is downloaded).

CODER's rule (METHODS.md §2): among the noun synsets of the class name, take the one whose
definition embedding best matches the name prompt ("a photo of {c}.") — this picks the sense the
dataset means (a *crane* the bird, not the machine) — and use its other lemmas as synonyms.

Any language works: the lexicons whose language maps to the class file's language code (e.g. an
Open Multilingual WordNet file ``omw-fr`` for ``fr``) are searched. OMW lexicons other than
English mostly lack definitions; a synset without one borrows the definition of the synset it is
linked to by ILI in another loaded lexicon (load the English WordNet alongside), and failing
that its lemmas stand in for the definition. Lemmas are cleaned as the metadata builder does
(``_`` → space; ``+`` joins removed for zh/ja/fr).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from curation.metadata.sources.wordnet import clean_lemma, wordnet_data, wordnet_lang_to_wiki

Embedder = Callable[[Sequence[str]], np.ndarray]


def choose_synset(query: np.ndarray, definitions: np.ndarray) -> int:
    """Index of the definition embedding ``[S, D]`` closest (cosine; inputs normalised) to ``query`` ``[D]``.

    Ties go to the lower index, i.e. the sense WordNet lists first (its most frequent).
    """
    definitions = np.asarray(definitions)
    if definitions.ndim != 2 or definitions.shape[0] == 0:
        raise ValueError("need at least one definition embedding")
    return int(np.argmax(definitions @ np.asarray(query)))


def synonyms_from_lemmas(lemmas: Sequence[str], classname: str, lang: str) -> list[str]:
    """The synset's lemmas, cleaned, without the class name itself (cleaned, case-insensitive), first kept."""
    own = clean_lemma(classname, lang).strip().casefold()
    out: list[str] = []
    for lemma in lemmas:
        s = clean_lemma(str(lemma), lang).strip()
        if s and s.casefold() != own and s.casefold() not in {o.casefold() for o in out}:
            out.append(s)
    return out


def wordnet_synonyms(classnames: Sequence[str], lang: str, paths: Sequence[str], embed: Embedder,
                     name_template: str = "a photo of {c}.", data_dir: str | None = None) -> list[list[str]]:
    """Synonyms of every class name (one list per class; empty when WordNet has no noun for it).

    ``lang`` is the class names' language code (``en``, ``fr``, ``zh`` …); ``embed`` turns texts
    into L2-normalised embeddings with the classifying model; ``name_template`` builds the query.
    """
    with wordnet_data(paths, data_dir) as wn:
        lexicons = [lx for lx in wn.lexicons() if wordnet_lang_to_wiki(lx.language) == lang]
        if not lexicons:
            return [[] for _ in classnames]
        others = [lx.specifier() for lx in wn.lexicons() if lx not in lexicons]
        nets = [wn.Wordnet(lexicon=lx.specifier()) for lx in lexicons]
        candidates: list[list] = []
        for name in classnames:
            seen, synsets = set(), []
            for net in nets:
                for form in dict.fromkeys((name, name.replace(" ", "_"), name.replace("_", " "))):
                    for s in net.synsets(form, pos="n"):
                        if s.id not in seen:
                            seen.add(s.id)
                            synsets.append(s)
            candidates.append([(_definition(s, others), [str(x) for x in s.lemmas()]) for s in synsets])
    queries = [name_template.format(c=name) for name, cands in zip(classnames, candidates) if cands]
    defs = [d for cands in candidates for d, _ in cands]
    if not queries:
        return [[] for _ in classnames]
    q_emb, d_emb = embed(queries), embed(defs)
    out, qi, di = [], 0, 0
    for name, cands in zip(classnames, candidates):
        if not cands:
            out.append([])
            continue
        best = choose_synset(q_emb[qi], d_emb[di:di + len(cands)])
        out.append(synonyms_from_lemmas(cands[best][1], name, lang))
        qi, di = qi + 1, di + len(cands)
    return out


def _definition(synset, other_lexicons: Sequence[str]) -> str:
    """The synset's definition, else an ILI-linked synset's in another lexicon, else its lemmas."""
    d = synset.definition()
    if d:
        return d
    for lexicon in other_lexicons:
        for linked in synset.translate(lexicon=lexicon):
            if linked.definition():
                return linked.definition()
    return ", ".join(str(x).replace("_", " ") for x in synset.lemmas())
