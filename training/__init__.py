"""Worldwide CLIP training: stream curated Parquet/Delta tables into open_clip models (SPEC §5).

See docs/training.md. Entry points: ``python -m training.launch`` (also under torchrun; or
``python -m training train``), ``python -m training plan`` (an epoch's plan and coverage),
``python -m training.evaluate``, ``python -m training.scaling``, ``python -m training.demo``.
"""
