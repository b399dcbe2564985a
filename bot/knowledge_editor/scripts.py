"""The project's own tools, loaded by path so the app and the tools share one
definition: the FAQ checks (scripts/check_knowledge_faq.py), the training
data generator (scripts/build_training_data.py) and the training fingerprint
(scripts/train.py, stdlib only at its top; the Rasa environment runs it).
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from types import ModuleType

from bot.config import ROOT

SCRIPTS = ROOT / "scripts"


@functools.cache
def script(name: str) -> ModuleType:
    """``scripts/<name>.py`` as a module (loaded once)."""
    path = SCRIPTS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"hotline_scripts_{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
