"""The longest each text hotline keeps may be: one home per length, for the events' checks,
the read model's columns and the messages that say them."""

ORDER_NUMBER = 64
"""An order number (工单编号)."""
UNIT_NAME = 100
"""A handling unit's name (承办单位): the registry's, an order's, a finding's."""
PERSON_NAME = 100
"""A person's or a database role's name: the citizen's, an actor's (录入人)."""
SHORT_TEXT = 2_000
"""A reason, a legal basis, who made contact."""
LONG_TEXT = 20_000
"""An order's summary, a closing report."""
AUDIT_DETAIL = 2_200
"""What the audit trail keeps of a correction (a reason and what it changed) or a reason."""
