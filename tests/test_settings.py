"""The settings a command runs with: each HOTLINE_* variable, else its default, with the
command's options over them."""

from __future__ import annotations

from pathlib import Path

from hotline.adapters.rubric_files import projections_dir, rubrics_dir
from hotline.adapters.settings import Settings, read_settings


def test_the_defaults_when_nothing_is_set() -> None:
    found = read_settings({"XDG_DATA_HOME": "/data"})
    assert found == Settings(
        db=str(Path("/data/hotline/hotline.db")),
        rubrics=rubrics_dir(),
        projections=projections_dir(),
        actor=None,
        key=None,
        key_file=None,
        debug=False,
    )


def test_each_variable_and_an_empty_one() -> None:
    environ = {
        "HOTLINE_DB": "postgresql://u@h:5432/d", "HOTLINE_RUBRICS": "/r",
        "HOTLINE_PROJECTIONS": "/p", "HOTLINE_ACTOR": "张三", "HOTLINE_KEY": "",
        "HOTLINE_KEY_FILE": "/k", "HOTLINE_DEBUG": "1",
    }  # fmt: skip
    found = read_settings(environ)
    assert (found.db, found.rubrics, found.projections) == (environ["HOTLINE_DB"], Path("/r"),
                                                            Path("/p"))  # fmt: skip
    assert (found.actor, found.key, found.key_file, found.debug) == ("张三", "", "/k", True)
    # An empty key is kept, to be refused when the store opens; an empty actor or store is unset.
    unset = read_settings({"HOTLINE_ACTOR": "", "HOTLINE_DB": "", "XDG_DATA_HOME": "/x"})
    assert (unset.actor, unset.db) == (None, str(Path("/x/hotline/hotline.db")))


def test_options_lay_over_the_variables() -> None:
    environ = {"HOTLINE_DB": "/env.db", "HOTLINE_ACTOR": "张三", "HOTLINE_PROJECTIONS": "/p"}
    found = read_settings(environ).given(db="/option.db", projections=Path("/q"), actor="李四")
    assert (found.db, found.projections, found.actor) == ("/option.db", Path("/q"), "李四")
    assert read_settings(environ).given(db=None, actor=None) == read_settings(environ)
