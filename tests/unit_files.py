"""A rubrics folder whose unit registry has dates, offices and a rename (tests/data)."""

from __future__ import annotations

import shutil
from pathlib import Path

from hotline.adapters.rubric_files import rubrics_dir

HISTORY = Path(__file__).parent / "data" / "units-history.toml"
LINGANG = "临港新片区市场监管局"


def history_units(shipped: str) -> str:
    """The shipped registry's text with 临港 dated from 2020 and tests/data's additions."""
    last = '    "浦东新区市场监管局",\n'
    assert last in shipped
    dated = f'{last}    {{ name = "{LINGANG}", from = 2020-01-01 }},\n'
    return shipped.replace(last, dated) + "\n" + HISTORY.read_text(encoding="utf-8")


def rubrics_with(folder: Path, units: str | None = None) -> Path:
    """A copy of the shipped rubrics in `folder`, its units.toml `units` (default: the
    history registry)."""
    shutil.copytree(rubrics_dir(), folder)
    path = folder / "units.toml"
    shipped = path.read_text(encoding="utf-8")
    path.write_text(history_units(shipped) if units is None else units, encoding="utf-8")
    return folder
