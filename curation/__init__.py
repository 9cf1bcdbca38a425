"""Worldwide (multilingual) CLIP data curation: MetaCLIP 2 rules as pure functions plus Spark glue.

The pure modules (``ids``, ``lid``, ``matching``, ``balancing``, ``sampling``, ``metadata``)
import neither Spark nor torch, so the Spark jobs, the training loader and the tests share them.
"""

__version__ = "0.1.0"
