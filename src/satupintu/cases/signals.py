"""Hooks other apps listen to, sent inside the writing transaction so that what a listener
writes (a routing entry, an outbound message) commits or rolls back with the case change.

``customer_wrote``: a customer's message reached a case (a new inbound case, or a message on
an existing one). Arguments: ``case``, ``event`` (the inbound CaseEvent), ``channel``.

``agent_replied``: an agent's reply to the customer was written. Arguments: ``case``,
``event`` (the outbound CaseEvent), ``channel``.
"""

from django.dispatch import Signal

customer_wrote = Signal()
agent_replied = Signal()
