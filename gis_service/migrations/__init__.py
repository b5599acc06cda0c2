"""The schema's migrations (alembic, versions/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).with_name("versions")


def revision_module(filename: str) -> ModuleType:
    """An earlier revision's module (its file names start with a digit, so it cannot be imported by name), for a
    revision that builds on what that one froze."""
    spec = importlib.util.spec_from_file_location(f"_landfund_{Path(filename).stem}", VERSIONS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
