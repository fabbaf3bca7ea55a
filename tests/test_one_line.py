"""`one_line`: the one way an error's message is put on one line."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlalchemy.exc import OperationalError

from hotline.domain.errors import one_line


def test_a_drivers_message_over_lines_is_one_line() -> None:
    assert one_line(ValueError("connection failed\n  DETAIL:  no route")) == (
        "connection failed DETAIL: no route"
    )


def test_sqlalchemys_statement_and_link_are_left_out() -> None:
    engine = sqlalchemy.create_engine("sqlite://")
    with pytest.raises(OperationalError) as caught, engine.connect() as connection:
        connection.execute(sqlalchemy.text("SELECT * FROM nowhere"))
    assert "[SQL:" in str(caught.value)
    assert one_line(caught.value) == "(sqlite3.OperationalError) no such table: nowhere"


def test_an_empty_message_is_the_errors_name() -> None:
    assert one_line(TimeoutError()) == "TimeoutError"
