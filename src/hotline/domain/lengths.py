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
CATEGORY_LEVEL = 100
"""One level of an order's category (一级/二级/三级分类)."""
CATEGORY_LEVELS = 3
"""How many levels an order's category has at most."""
PLACE_NAME = 100
"""A district's or a street's name (区, 街道)."""
ADDRESS = 500
"""The citizen's address (地址)."""
ENTITY_NAME = 200
"""The name of the market entity complained about (被投诉对象)."""
