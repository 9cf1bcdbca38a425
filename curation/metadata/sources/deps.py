"""Optional dependencies of the metadata builder: imported through :func:`require`, never hidden.

The builder's packages (wikitext parser, segmenters, WordNet reader) live in the ``metadata``
extra. A missing one is an immediate :class:`MissingDependencyError` naming the package and the
extra to install -- on the driver before any work (:func:`check_modules`) and, on a Spark
executor whose environment lacks it, as the task's error (never swallowed into "malformed
records").
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable
from types import ModuleType

INSTALL_HINT = "pip install -e '.[metadata]'  (from a checkout; or: pip install 'worldwide-clip[metadata]')"


class MissingDependencyError(ImportError):
    """A package of the ``metadata`` extra is not installed (the message says which and how)."""


def missing_message(package: str, purpose: str) -> str:
    return (f"the metadata builder needs the Python package {package!r} ({purpose}), which is not installed "
            f"here; install the builder's extra: {INSTALL_HINT}")


def require(module: str, package: str, purpose: str) -> ModuleType:
    """``import module`` or raise MissingDependencyError naming ``package`` and the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(f"{missing_message(package, purpose)} [{exc}]") from exc


def check_modules(needed: Iterable[tuple[str, str, str]]) -> None:
    """Fail before any work when one of ``(module, package, purpose)`` cannot be found."""
    missing = [(package, purpose) for module, package, purpose in needed
               if importlib.util.find_spec(module.split(".")[0]) is None]
    if missing:
        names = ", ".join(f"{p!r} ({why})" for p, why in missing)
        raise MissingDependencyError(f"the metadata builder needs {names}, not installed here; "
                                     f"install the builder's extra: {INSTALL_HINT}")
