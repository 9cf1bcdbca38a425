"""Spark glue: sessions, table I/O and stages. Only moves data to the pure functions in ``curation``."""
