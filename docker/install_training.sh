#!/usr/bin/env bash
# Install step of docker/training.Dockerfile, kept in a script so that it can be run (and tested)
# outside Docker too:
#
#   bash docker/install_training.sh VENV_DIR SOURCE_DIR
#
# The venv sees the base interpreter's packages (--system-site-packages), so the CUDA build of
# torch that the base image ships is reused, and a constraint pins it: pip may add packages
# (open_clip_torch, tokenizers, deltalake, ...) but never replaces torch with a PyPI build.
set -euo pipefail
read -r -a pip_opts <<< "${PIP_OPTS:-}"
venv=${1:?usage: install_training.sh VENV_DIR SOURCE_DIR}
src=${2:?usage: install_training.sh VENV_DIR SOURCE_DIR}
python=${PYTHON:-python3}
"$python" -m venv --system-site-packages "$venv"
"$venv/bin/python" - "$venv/constraints.txt" <<'PY'
import sys
from importlib import metadata
pins = []
for name in ("torch", "torchvision"):
    try:
        pins.append(f"{name}=={metadata.version(name)}")
    except metadata.PackageNotFoundError:
        if name == "torch":
            sys.exit("the base environment has no torch: use a CUDA torch base image (pytorch/pytorch)")
with open(sys.argv[1], "w") as f:
    f.write("\n".join(pins) + "\n")
print("pinned from the base image:", ", ".join(pins))
PY
PIP_CONSTRAINT="$venv/constraints.txt" "$venv/bin/python" -m pip install --no-cache-dir \
  --disable-pip-version-check ${pip_opts[@]+"${pip_opts[@]}"} "${src}[training]"
"$venv/bin/python" - <<'PY'
import open_clip, torch  # noqa: F401
import training.launch  # noqa: F401
import curation
print(f"training venv ok: worldwide-clip {curation.__version__}, torch {torch.__version__}, "
      f"CUDA build {torch.version.cuda}, open_clip {open_clip.__version__}")
PY
