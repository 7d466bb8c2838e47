"""The delayed log-out after a page is closed (``navigator.sendBeacon`` on unload).

Moving to another page of the same tab also unloads the page; the next page claims the
presence again with a heartbeat at once, so the log-out runs a few seconds later and only
when nothing has been heard from that connection since. A browser that dies without the
beacon is the heartbeat sweep's (``presence.sweep_lost``).
"""

from __future__ import annotations

from datetime import datetime

from huey.contrib.djhuey import db_task

from satupintu.accounts.models import User
from satupintu.routing.models import AgentPresence, PresenceEvent, PresenceState

LEAVE_GRACE_SECONDS = 8


def offline_if_gone(user_id: int, connection: str, left_at: datetime) -> bool:
    """Log the agent out if ``connection`` still holds the presence and sent no heartbeat
    after ``left_at``; True when it did."""
    from satupintu.routing.services import presence

    p = AgentPresence.objects.filter(user_id=user_id).first()
    if p is None or p.connection != connection or p.state == PresenceState.LOGGED_OUT:
        return False
    if p.heartbeat_at is not None and p.heartbeat_at > left_at:
        return False
    user = User.objects.get(pk=user_id)
    presence.go_offline(user, source=PresenceEvent.Source.CONNECTION_LOST,
                        connection=connection)
    return True


@db_task()
def offline_if_gone_task(user_id: int, connection: str, left_at: str) -> bool:
    return offline_if_gone(user_id, connection, datetime.fromisoformat(left_at))


def schedule_offline(user_id: int, connection: str, left_at: datetime) -> None:
    offline_if_gone_task.schedule((user_id, connection, left_at.isoformat()),
                                  delay=LEAVE_GRACE_SECONDS)
