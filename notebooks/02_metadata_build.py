# Databricks notebook source
# MAGIC %md
# MAGIC # Build per-language metadata (MetaCLIP 2 rules)
# MAGIC
# MAGIC Wikipedia dumps (unigrams: top share by frequency; bigrams: PMI; article titles by page views
# MAGIC or in-links), Open Multilingual WordNet, numbers 0–99 and imported MetaCLIP JSON files,
# MAGIC merged per language into one metadata table for the curation jobs (`--metadata`).
# MAGIC The notebook runs `curation.metadata.build` — the same code as `python -m curation.build_metadata`
# MAGIC — with the job's own flags, then inspects the result. It adds no logic.
# MAGIC
# MAGIC `build_args` takes exactly the job's flags, e.g.
# MAGIC `--dump en=/Volumes/main/wiki/dumps/enwiki-20250101-pages-articles*.xml.bz2 --wordnet /Volumes/main/wiki/omw-2.0.xml.gz`.
# MAGIC Left empty, the notebook imports two languages of the embedded default metadata as MetaCLIP
# MAGIC JSON files (a demo that runs anywhere, offline).
# MAGIC
# MAGIC Locally: `python notebooks/02_metadata_build.py` (`WWCLIP_BUILD_ARGS`, `WWCLIP_OUTPUT`).

# COMMAND ----------

import os

ON_DATABRICKS = "DATABRICKS_RUNTIME_VERSION" in os.environ
DEFAULTS = {
    "build_args": "",  # flags of python -m curation.build_metadata (without --output)
    "output": "/tmp/wwclip/metadata/metadata.parquet",
    "engine": "spark" if ON_DATABRICKS else "local",  # local: one process, no Spark
}
if ON_DATABRICKS:
    for name, value in DEFAULTS.items():
        dbutils.widgets.text(name, value)  # noqa: F821 (defined by Databricks)
    params = {name: dbutils.widgets.get(name) for name in DEFAULTS}  # noqa: F821
else:
    params = {name: os.environ.get(f"WWCLIP_{name.upper()}", value) for name, value in DEFAULTS.items()}
print(params)

# COMMAND ----------

# MAGIC %md ## Sources (demo sources only when `build_args` is empty)

# COMMAND ----------

import shlex
import tempfile

from curation.metadata import export_metaclip, metadata_from_lists, read_metadata

build_args = shlex.split(params["build_args"])
if not build_args:
    embedded = read_metadata()  # the embedded default set (wordfreq word lists + numbers)
    # 500 words per language after the numbers 0-99 (the builder adds those itself)
    demo = metadata_from_lists({lang: embedded.entries[lang][100:600] for lang in ("en", "de")}, "demo")
    demo_dir = tempfile.mkdtemp(prefix="wwclip-metaclip-json-")
    build_args = [arg for path in export_metaclip(demo, demo_dir)
                  for arg in ("--metaclip-json", f"{os.path.basename(path)[:-5]}={path}")]
print(build_args)

# COMMAND ----------

# MAGIC %md ## Build

# COMMAND ----------

from curation.metadata.build import build_metadata, parse_args, report, write_outputs

config = parse_args([*build_args, "--output", params["output"], "--engine", params["engine"]])
spark = None
if config.engine == "spark":
    from curation.spark.session import get_spark

    spark = get_spark("wwclip-build-metadata")
result = build_metadata(config, spark)
write_outputs(result, config, spark)
print(report(result))

# COMMAND ----------

# MAGIC %md ## Inspect: entries per language and source, validation, examples

# COMMAND ----------

from curation.metadata import format_source_table, source_counts, validate_metadata_file

print(format_source_table(source_counts(result.metadata), max_rows=40))
problems = validate_metadata_file(params["output"])
print("valid" if not problems else "\n".join(problems[:20]))
built = read_metadata(params["output"])
for lang in built.languages[:10]:
    print(f"{lang}: {built.n_entries(lang):,} entries, e.g. {list(built.entries[lang][100:108])}")
