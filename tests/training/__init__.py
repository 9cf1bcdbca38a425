"""Training package tests (no Spark): tables are written with pyarrow and deltalake."""
