#!/usr/bin/env bash
# Install step of docker/curation.Dockerfile, kept in a script so that it can be run (and tested)
# outside Docker too:
#
#   bash docker/install_curation.sh VENV_DIR SOURCE_DIR [EXTRAS]
#
# Creates VENV_DIR with the project (non-editable) and its runtime dependencies. pyspark and
# delta-spark are NOT installed: spark-submit puts the image's own Spark (/opt/spark/python) on
# the path, and the Delta jars sit in /opt/spark/jars.
set -euo pipefail
read -r -a pip_opts <<< "${PIP_OPTS:-}"
venv=${1:?usage: install_curation.sh VENV_DIR SOURCE_DIR [EXTRAS]}
src=${2:?usage: install_curation.sh VENV_DIR SOURCE_DIR [EXTRAS]}
extras=${3:-report}
python=${PYTHON:-python3}
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --no-cache-dir --disable-pip-version-check ${pip_opts[@]+"${pip_opts[@]}"} "${src}[${extras}]"
# smoke: the native pieces load and the embedded lid.176 model answers, with no network
"$venv/bin/python" - <<'PY'
import importlib.util
import ahocorasick, fasttext, pyarrow  # noqa: F401
import curation
from curation.lid import detect
assert detect(["ein Hund spielt im Park"])[0] == ["de"]
assert importlib.util.find_spec("pyspark") is None, "pyspark comes from the image's Spark, not the venv"
print(f"curation venv ok: worldwide-clip {curation.__version__}")
PY
