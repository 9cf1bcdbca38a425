"""Common Crawl input: WAT (or WARC) files -> the alt-text table that curation reads.

Pure layer (no Spark): :mod:`.urls` (image URL resolution and reject reasons), :mod:`.texts`
(which attribute becomes the text; declared language), :mod:`.wat` / :mod:`.html` (a record ->
a :class:`.rows.Page`), :mod:`.rows` (a page -> rows and rejects), :mod:`.gzipstream` (verified
gzip members), :mod:`.warcfile` (records with fastwarc or warcio), :mod:`.extract` (one file ->
part rows). Spark: :mod:`.transforms` and the runner :mod:`.job`; CLI: :mod:`.cli`
(``wwclip-extract``); generated test crawls: :mod:`.sample`. See docs/commoncrawl.md.
"""
