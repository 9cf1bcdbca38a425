"""The curation pipeline: one run's context, one runner per stage, ``curate``, the CLI.

``config`` (flags, no Spark) -> ``cli`` -> ``curate`` (lock, resume, record) -> ``runners``
(one per stage, ``run_<stage>(ctx, progress) -> section``) -> ``curation.spark.transforms``.
``context.RunContext`` computes the run-wide facts once (input listing and fingerprint, batch
id, metadata and its fingerprint); ``inputs`` reads and checks the input; ``stats`` writes
``_stats.json``; ``summary`` renders it. Entry points: ``curate.run_curate`` and
``curate.run_stage``.
"""
