#!/usr/bin/env bash
# Pack the project and its native dependencies (pyahocorasick, fastText via fasttext-predict,
# numpy, pyarrow, pandas) into a relocatable venv tarball for Spark executors:
#
#   bash scripts/pack_env.sh dist/wwclip-env.tar.gz
#   spark-submit --archives dist/wwclip-env.tar.gz#environment \
#     --conf spark.pyspark.python=./environment/bin/python ... jobs/curate.py ...
#
# pyspark and delta-spark are NOT packed: executors get pyspark from the cluster's Spark, and
# the Delta jars go in with --packages or --jars (scripts/fetch_delta_jars.sh).
# venv-pack keeps a link to the base interpreter, so every node needs the same Python
# (same version, same path) as the one used here; otherwise use the curation image (docker/).
#
# Environment: PYTHON (base interpreter, default python3), EXTRAS (comma-separated extras of the
# project to add, e.g. "report"), PIP_OPTS (extra pip flags, e.g. an index or --find-links).
set -euo pipefail
read -r -a pip_opts <<< "${PIP_OPTS:-}"
out=${1:-dist/wwclip-env.tar.gz}
python=${PYTHON:-python3}
extras=${EXTRAS:-}
repo=$(cd "$(dirname "$0")/.." && pwd)
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "[pack_env] base interpreter: $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
# 1. a wheel of the project (non-editable: venv-pack refuses editable installs), built from a
#    clean copy of the sources so that nothing else in the working tree ends up in it
mkdir "$work/src"
sources=(pyproject.toml README.md curation)
if [ -d "$repo/training" ]; then sources+=(training); fi
tar -C "$repo" --exclude=__pycache__ -cf - "${sources[@]}" | tar -C "$work/src" -xf -
"$python" -m pip wheel -q --no-deps -w "$work/dist" ${pip_opts[@]+"${pip_opts[@]}"} "$work/src"
wheel=$(ls "$work"/dist/*.whl)
# 2. a fresh venv with the wheel and its runtime dependencies only
"$python" -m venv "$work/env"
spec="$wheel"
if [ -n "$extras" ]; then spec="worldwide-clip[$extras] @ file://$wheel"; fi
"$work/env/bin/python" -m pip install -q --disable-pip-version-check ${pip_opts[@]+"${pip_opts[@]}"} "$spec"
# 3. the native pieces import, the LID model is inside, and Spark is not
"$work/env/bin/python" - <<'PY'
import importlib.util, ahocorasick, fasttext, numpy, pyarrow, pandas  # noqa: F401
import curation
from curation.lid import detect
labels, _ = detect(["a black cat sleeping on the sofa"])
assert labels == ["en"], labels
assert importlib.util.find_spec("pyspark") is None, "pyspark must come from the cluster, not the env"
print(f"[pack_env] env ok: worldwide-clip {curation.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}")
PY
# 4. pack it (venv-pack runs from its own throwaway venv so it is not packed itself)
"$python" -m venv "$work/tool"
"$work/tool/bin/python" -m pip install -q --disable-pip-version-check ${pip_opts[@]+"${pip_opts[@]}"} "venv-pack==0.2.0"
mkdir -p "$(dirname "$out")"
rm -f "$out"
"$work/tool/bin/venv-pack" -q -p "$work/env" -o "$out"
echo "[pack_env] wrote $out ($(du -h "$out" | cut -f1))"
