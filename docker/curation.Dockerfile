# syntax=docker/dockerfile:1
# CPU curation image: Spark 4.0.1 (Scala 2.13, Java 17, Python 3.10) + Delta Lake 4.0.1 jars +
# this project in /opt/venv. Nothing is downloaded at run time (no Ivy, no model download).
#
#   docker build -f docker/curation.Dockerfile -t wwclip-curation:0.1.0 .
#   docker run --rm -v "$PWD/data:/data" wwclip-curation:0.1.0 \
#     spark-submit --master 'local[*]' /opt/wwclip/jobs/curate.py --input /data/alt_texts.parquet \
#       --output /data/curation --format delta
#
# Kubernetes: the same image runs driver and executors (spark.kubernetes.container.image);
# the job is local:///opt/wwclip/jobs/curate.py. See docs/deploy.md.
ARG SPARK_IMAGE=apache/spark:4.0.1-scala2.13-java17-python3-ubuntu

# ---------------------------------------------------------------- Delta jars (checksum-verified)
FROM ${SPARK_IMAGE} AS jars
# builder stages run as root and are thrown away; the runtime stage runs as uid 185
# hadolint ignore=DL3002
USER 0
COPY scripts/fetch_delta_jars.sh /tmp/fetch_delta_jars.sh
RUN bash /tmp/fetch_delta_jars.sh /opt/delta-jars

# ---------------------------------------------------------------- venv with the project
FROM ${SPARK_IMAGE} AS build
# hadolint ignore=DL3002
USER 0
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-venv \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md /src/
COPY curation /src/curation
COPY docker/install_curation.sh /tmp/install_curation.sh
RUN bash /tmp/install_curation.sh /opt/venv /src report

# ---------------------------------------------------------------- runtime
FROM ${SPARK_IMAGE}
LABEL org.opencontainers.image.title="worldwide-clip curation" \
      org.opencontainers.image.description="MetaCLIP 2 worldwide curation on Spark 4.0.1 + Delta 4.0.1" \
      org.opencontainers.image.licenses="Apache-2.0"
USER 0
COPY --from=jars /opt/delta-jars/ /opt/spark/jars/
COPY --from=build /opt/venv /opt/venv
COPY jobs /opt/wwclip/jobs
COPY docker/spark-defaults.conf /opt/spark/conf/spark-defaults.conf
ENV PATH=/opt/venv/bin:/opt/spark/bin:${PATH} \
    PYSPARK_PYTHON=/opt/venv/bin/python \
    PYSPARK_DRIVER_PYTHON=/opt/venv/bin/python
# the base image's non-root user "spark"
USER 185
WORKDIR /opt/spark/work-dir
# ENTRYPOINT stays the base image's /opt/entrypoint.sh (driver/executor on Kubernetes, else pass-through)
CMD ["spark-submit", "--master", "local[*]", "/opt/wwclip/jobs/curate.py", "--output", "/tmp/wwclip-demo"]
