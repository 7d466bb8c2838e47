"""Demo routing: queues per client and channel, bullseye rules, settings and reason codes
(``build``, before the channel demo data), then a live floor (``build_floor``, after it):
agents ready, on break, at prayer or a meal, one in after-contact work, and the waiting
contacts offered and answered by the real routing pass, so the wallboard moves.

Everything goes through the routing services; the same seed gives the same floor.
"""

from __future__ import annotations

import random

from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, Skill, Team, User
from satupintu.accounts.roles import Role
from satupintu.cases.models import Case, Channel, Status
from satupintu.routing.models import (
    LIVE_WORK,
    PresenceState,
    WorkItem,
    WorkStatus,
)
from satupintu.routing.services import assign, configure, presence, rules, work

# Per client: which product skill each channel's queue asks for.
CHANNEL_SKILLS = {
    "bank-nusantara": {Channel.PHONE: "bank-card", Channel.WHATSAPP: "bank-savings",
                       Channel.CHAT: "bank-card", Channel.EMAIL: "bank-loan",
                       Channel.WEB: "bank-savings"},
    "telko-merah-putih": {Channel.PHONE: "telco-internet", Channel.WHATSAPP: "telco-prepaid",
                          Channel.CHAT: "telco-billing", Channel.EMAIL: "telco-billing",
                          Channel.WEB: "telco-retention"},
    "pasar-kita": {Channel.PHONE: "mp-orders", Channel.WHATSAPP: "mp-orders",
                   Channel.CHAT: "mp-refund", Channel.EMAIL: "mp-seller",
                   Channel.WEB: "mp-refund"},
}
QUEUE_NAMES = {
    Channel.PHONE: ("Telepon", "Phone"), Channel.WHATSAPP: ("WhatsApp", "WhatsApp"),
    Channel.CHAT: ("Chat web", "Web chat"), Channel.EMAIL: ("E-mail", "E-mail"),
    Channel.WEB: ("Formulir web", "Web form"),
}
# client: (ACW max s, after ACW, heartbeat timeout s, SL threshold s, SL target %, formula)
SETTINGS = {
    "bank-nusantara": (90, "ready", 90, 20, 80, "answered"),
    "telko-merah-putih": (120, "not_ready", 120, 30, 80, "offered"),
    "pasar-kita": (60, "ready", 90, 60, 85, "asterisk_sl2"),
}
# One reason code of the client's own, next to the shared ones.
CLIENT_REASONS = {
    "bank-nusantara": ("briefing", "Briefing pagi", "Morning briefing", True, True, 15),
    "telko-merah-putih": ("gangguan-jaringan", "Gangguan jaringan kantor",
                          "Office network outage", True, False, None),
    "pasar-kita": ("flash-sale", "Persiapan flash sale", "Flash sale preparation", True,
                   True, 30),
}

RING_STEPS = """\
      - name: known agent
        preferred_agent: true
        timeout: 10
      - name: experts
        target: 'interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 4)'
        timeout: 20
      - name: trained
        target: 'interaction.skills.all(s, s in agent.skills && agent.skills[s] >= 2)'
        timeout: 40
        priority_boost: 2
      - name: anyone of the client
"""


def rules_text(client_code: str, accept_timeout: int = 20) -> str:
    """Bullseye rings: the known agent, experts (≥4) for 20 s, trained (≥2), then anyone of
    the client; VIP contacts get a boost. Fraud calls go to the most proficient first and
    overflow to the general phone queue after 3 minutes."""
    extra = ""
    if client_code == "bank-nusantara":
        # fraud calls still waiting after 3 minutes go to the general phone queue
        extra = ("  phone-fraud:\n    strategy: highest_proficiency\n"
                 "    overflow: {to: phone, after: 180}\n    steps:\n" + RING_STEPS)
    return (f"# Demo routing rules of {client_code}\n"
            f"name: {client_code}\n"
            f"accept_timeout: {accept_timeout}\n"
            "max_missed_offers: 3\n"
            "vip_boost: 5\n"
            "queues:\n"
            + extra +
            "  default:\n    strategy: longest_idle\n    steps:\n" + RING_STEPS)


def _admin() -> User:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("pk").first()
    assert admin is not None, "the organisation demo creates the administrator first"
    return admin


def build(seed: int) -> None:
    rng = random.Random(seed + 70)
    configure.ensure_shared_reasons()
    admin = _admin()
    supervisor = User.objects.filter(username="supervisor").first() or admin
    for client in Client.objects.order_by("code"):
        skills = CHANNEL_SKILLS.get(client.code)
        if skills is None:
            continue
        teams = list(Team.objects.filter(clients=client).order_by("pk"))
        for order, channel in enumerate(CHANNEL_SKILLS[client.code]):
            name_id, name_en = QUEUE_NAMES[channel]
            skill = Skill.objects.filter(code=skills[channel]).first()
            configure.save_queue(client, {
                "code": str(channel), "name_id": name_id, "name_en": name_en,
                "channel": channel, "team": teams[order % len(teams)] if teams else None,
                "min_proficiency": 1, "language": "", "is_default": True, "is_active": True,
                "order": order}, by=admin, skills=[skill] if skill else [])
        if client.code == "bank-nusantara":
            fraud = Skill.objects.filter(code="bank-fraud").first()
            configure.save_queue(client, {
                "code": "phone-fraud", "name_id": "Blokir & fraud", "name_en": "Blocking & fraud",
                "channel": Channel.PHONE, "team": teams[0] if teams else None,
                "min_proficiency": 2, "language": "", "is_default": False, "is_active": True,
                "order": 9}, by=admin, skills=[fraud] if fraud else [])
        acw, after, beat, threshold, target, formula = SETTINGS[client.code]
        configure.save_settings(client, {
            "acw_max_seconds": acw, "after_acw": after, "heartbeat_timeout_seconds": beat,
            "sl_threshold_seconds": threshold, "sl_target_percent": target,
            "sl_formula": formula}, by=admin)
        code, name_id, name_en, paid, adherent, minutes = CLIENT_REASONS[client.code]
        configure.save_reason_code(client, {
            "code": code, "name_id": name_id, "name_en": name_en, "paid": paid,
            "adherent_when_scheduled": adherent, "max_minutes": minutes, "is_active": True,
            "order": 20}, by=admin)
        # v1 is the platform default; v2 the demo rings; some clients tuned them since.
        rules.current_rules(client)
        rules.save_rules(client, rules_text(client.code), by=admin,
                         comment=_("Bullseye rings: experts first, then trained, then anyone"))
        if rng.random() < 0.7 and supervisor is not None and \
                client.users.filter(pk=supervisor.pk).exists():
            rules.save_rules(client, rules_text(client.code, accept_timeout=15), by=supervisor,
                             comment=_("Shorter time to accept an offer"))


# Not-ready reasons seen on the demo floor, by weight.
FLOOR_REASONS = [("break", 4), ("prayer", 3), ("meal", 2), ("coaching", 1)]


def build_floor(seed: int) -> None:
    rng = random.Random(seed + 71)
    agents = list(User.objects.filter(role=Role.AGENT, is_active=True).order_by("username"))
    # The demo logins start logged out: the person trying the demo goes ready themselves.
    personas = {"agent", "agent.telko"}
    for user in agents:
        if user.username in personas:
            continue
        roll = rng.random()
        if roll < 0.72:
            presence.set_state(user, PresenceState.READY, connection="demo")
        elif roll < 0.92:
            reason = rng.choices([r for r, _w in FLOOR_REASONS],
                                 [w for _r, w in FLOOR_REASONS])[0]
            presence.set_state(user, PresenceState.NOT_READY, reason_code=reason,
                               connection="demo")
        # else: not logged in to routing today
    # The contacts still waiting for a first answer enter their queues (the channel demo's
    # inbound messages are already in line).
    waiting = (Case.objects.filter(status=Status.NEW, assignee__isnull=True)
               .exclude(work_items__status__in=list(LIVE_WORK))
               .order_by("created_at", "pk"))
    for case in waiting[:60]:
        work.enqueue_case(case, channel=case.channel)
    offered: list[WorkItem] = []
    for _pass in range(3):
        offered.extend(assign.route())
    # Most offers are answered at once; a few still ring when the demo opens.
    handled: list[WorkItem] = []
    for item in sorted(offered, key=lambda i: i.pk):
        item.refresh_from_db()
        if item.status != WorkStatus.OFFERED or item.agent is None:
            continue
        roll = rng.random()
        if roll < 0.75:
            handled.append(work.accept(item, by=item.agent))
        elif roll < 0.85:
            work.decline(item, by=item.agent)
    # Some of the answered contacts are done; one agent is still in after-contact work.
    in_acw: User | None = None
    for item in handled[: max(1, len(handled) // 3)]:
        item.refresh_from_db()
        if item.status != WorkStatus.ASSIGNED or item.agent is None:
            continue
        agent = item.agent
        work.complete(item, by=agent, wrap_up=True)
        if in_acw is None:
            in_acw = agent
        elif agent.pk != in_acw.pk:
            work.end_wrap_up(agent, by=agent)
    assign.route()
