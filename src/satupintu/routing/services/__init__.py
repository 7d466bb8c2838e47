"""Routing writes and decisions: rules, presence, work items, assignment passes, notices.

Modules: ``rules`` (versioned per-client rules), ``presence`` (agent states), ``work``
(entry, offers, accept/decline/complete), ``assign`` (the atomic matching pass), ``live``
(after-commit notices) and ``configure`` (queues, settings and reason codes).
"""
