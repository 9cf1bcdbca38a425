"""Metadata sources (SPEC §4, MetaCLIP 2 metadata): pure rules to turn Wikipedia dumps,
WordNet and page views into ranked per-language candidate lists.

- ``dumpio``: dump files -> checked, decoded ``</page>`` records (probe, encodings, truncation),
  the one reader of both engines;
- ``deps``: the optional packages, imported through ``require`` (a missing one is an error
  naming it and the extra);
- ``wikitext``: MediaWiki XML export pages -> plain text, out-links, redirects (no Spark);
- ``tokenize``: plain text -> word segments per language (one ``SEGMENTERS`` table: zh, ja,
  th, km, lo, my, bo/dz);
- ``selection``: the paper's rules: unigram top share, bigram PMI, title top share, caps;
- ``wordnet``: Open Multilingual WordNet lemmas from a local WN-LMF file via ``wn``;
- ``pageviews``: Wikimedia page-view dump lines;
- ``local``: single-process builder on the same rules (small wikis, tests, benchmark baseline);
- ``spark_wiki``: the Spark glue (DataFrame in, DataFrame out) used by ``curation.metadata.build``.
"""
