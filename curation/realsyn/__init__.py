"""RealSyn (seed 004, SPEC §6 / §6.1): interleaved web documents -> images linked to several real
sentences (+ an optional synthetic caption), semantically balanced.

Pure modules (NumPy / pyarrow in and out, no Spark, no torch):

- ``rules``      the SPEC §6.1 filters: image size/aspect, sentence cleaning and length, word
                 entropy, perplexity band, synthetic-caption band;
- ``text``       multilingual sentence splitting and word lists (segmenters for no-space scripts);
- ``documents``  OBELICS-layout document validation -> image and text elements, or a reject reason;
- ``retrieval``  nearest centroid, exact top-k, ``hierarchical_topk``;
- ``balance``    ``cluster_cap_mask`` and the cap ``t`` for a target size;
- ``captions``   ``draw_caption``: the per-step caption draw of the training loader;
- ``minhash``    NumPy MinHash signatures and LSH band keys (near-duplicate sentences);
- ``graph``      union-find (connected components inside one partition).

Model-backed pieces (loaded once per worker process): ``embed`` (open_clip from a local
checkpoint), ``perplexity`` (a local causal LM through ``transformers``, or a KenLM file).
Spark glue: ``spark_*`` modules and ``pipeline`` (the runner behind ``wwclip-realsyn``).
See ``docs/realsyn.md``.
"""
