"""Domain errors: every refusal the product gives a user is one of these.

Each message is one line saying what is wrong and, where it helps, how to fix it.
"""


class HotlineError(Exception):
    """Base of every refusal shown to a user."""


class InvalidInput(HotlineError):
    """A value given by a user (a date, an enum value, a field) is malformed."""


class OrderRuleViolation(HotlineError):
    """An event that does not make sense in the order's current state (domain.md §3)."""


class OrderNotFound(HotlineError):
    """No order with that number has been received."""


SQL_ANNOTATIONS = "\n[SQL: "
"""Where SQLAlchemy's message goes on with the statement, its parameters and a link."""


def one_line(error: BaseException) -> str:
    """An error's message on one line: database drivers' messages span several, and
    SQLAlchemy's own go on with the statement (left out)."""
    message = str(error).split(SQL_ANNOTATIONS)[0]
    return " ".join(message.split()) or type(error).__name__


class OrderAlreadyReceived(HotlineError):
    """An order number is the key: a second `received` is refused."""


class UnknownUnit(HotlineError):
    """A handling unit (承办单位) that is not in the unit registry."""


class FindingError(HotlineError):
    """A finding that does not exist, or that was already withdrawn."""


class CalendarError(HotlineError):
    """A date outside the working-day calendar, or a broken calendar amendment."""


class DataFileError(HotlineError):
    """A data file (unit registry, time-limit rules, calendar year) is broken."""
