#!/usr/bin/env bash
# Download the Delta Lake jars for Spark 4.0.x from Maven Central and check their SHA-256, so
# that spark-submit (--jars) and the curation image need no Ivy resolution at run time.
#
#   bash scripts/fetch_delta_jars.sh DEST_DIR      # then: spark-submit --jars "$(ls DEST_DIR/*.jar | paste -sd,)"
#
# delta-spark 4.0.1 pairs with Spark/pyspark 4.0.x (see pyproject's `spark` extra). Its third
# dependency, antlr4-runtime 4.13.1, already ships in Spark's own jars/ directory.
# Set MAVEN_REPO to use a mirror (default: Maven Central).
set -euo pipefail
dest=${1:?usage: fetch_delta_jars.sh DEST_DIR}
repo=${MAVEN_REPO:-https://repo1.maven.org/maven2}
DELTA_VERSION=4.0.1
# artifact path under the repository, file name, SHA-256
JARS=(
  "io/delta/delta-spark_2.13/${DELTA_VERSION} delta-spark_2.13-${DELTA_VERSION}.jar a1e76860b19fe1e6b205a4ea7a9099a2f9575d39bb71d49b3e679b299d0efb91"
  "io/delta/delta-storage/${DELTA_VERSION} delta-storage-${DELTA_VERSION}.jar ecc42c5aaa51c423312d9e4e48aa4a12b34740bf2c37de0e8f279277ec3d12e4"
)
mkdir -p "$dest"
for line in "${JARS[@]}"; do
  read -r path name sha <<<"$line"
  target="$dest/$name"
  if [ ! -s "$target" ] || ! echo "$sha  $target" | sha256sum -c --status -; then
    if command -v curl >/dev/null 2>&1; then
      curl -fsSL --retry 3 -o "$target.part" "$repo/$path/$name"
    else
      wget -q -O "$target.part" "$repo/$path/$name"
    fi
    echo "$sha  $target.part" | sha256sum -c --status - || { echo "checksum mismatch: $name" >&2; rm -f "$target.part"; exit 1; }
    mv "$target.part" "$target"
  fi
  echo "$target"
done
