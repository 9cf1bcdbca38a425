# syntax=docker/dockerfile:1
# GPU training image: CUDA torch (from the official PyTorch image) + open_clip + this project.
#
#   docker build -f docker/training.Dockerfile -t wwclip-training:0.1.0 .
#   docker run --rm --gpus all --ipc=host -v "$PWD/data:/data" wwclip-training:0.1.0 \
#     torchrun --nproc_per_node 8 -m training.launch --data /data/curation --mode online \
#       --output-dir /data/runs/r1
#
# The base image's torch is kept (pinned by docker/install_training.sh); pick another CUDA /
# torch pair with --build-arg TORCH_IMAGE=pytorch/pytorch:<torch>-cuda<X>-cudnn9-runtime.
ARG TORCH_IMAGE=pytorch/pytorch:2.8.0-cuda12.9-cudnn9-runtime

# ---------------------------------------------------------------- venv with the project
FROM ${TORCH_IMAGE} AS build
COPY pyproject.toml README.md /src/
COPY curation /src/curation
COPY training /src/training
COPY docker/install_training.sh /tmp/install_training.sh
RUN bash /tmp/install_training.sh /opt/venv /src

# ---------------------------------------------------------------- runtime
FROM ${TORCH_IMAGE}
LABEL org.opencontainers.image.title="worldwide-clip training" \
      org.opencontainers.image.description="Multilingual CLIP training (open_clip) on curated Parquet/Delta tables" \
      org.opencontainers.image.licenses="Apache-2.0"
ARG TRAINER_UID=1000
RUN useradd --create-home --uid "${TRAINER_UID}" --shell /bin/bash trainer \
    && mkdir -p /workspace && chown trainer:trainer /workspace
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:${PATH} \
    PYTHONUNBUFFERED=1
USER ${TRAINER_UID}
WORKDIR /workspace
CMD ["python", "-m", "training.launch", "--help"]
