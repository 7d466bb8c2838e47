"""Demo WhatsApp and calls: an account per client that talks to the local sandbox, a few
conversations and two finished calls, all put through the real webhook and CTI code paths."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta

from django.utils import timezone

from satupintu.accounts.models import Client, User
from satupintu.accounts.roles import Role
from satupintu.cases import services as cases
from satupintu.cases.models import Case
from satupintu.customers.identity import IdentityKind
from satupintu.customers.services import find_by_identity
from satupintu.telephony import services as telephony
from satupintu.telephony.models import AgentExtension, CtiNumber
from satupintu.whatsapp import services as whatsapp
from satupintu.whatsapp.models import WhatsAppAccount, WhatsAppTemplate

SANDBOX_BASE = "http://127.0.0.1:8000/whatsapp/sandbox"

CONVERSATIONS = [
    # (minutes ago, customer name, messages): recent enough that no SLA clock of the demo
    # is already due when it starts (the first job run acts only on what falls due later)
    (12, "Rina Wulandari", ["Selamat siang, kartu debit saya tertelan di ATM Sudirman.",
                           "Nomor kartu berakhiran 4821."]),
    (20, "Agus Prasetyo", ["Halo, saya mau tanya status pengiriman pesanan saya."]),
    (35, "Maya Sari", ["Apakah bisa ganti alamat penagihan lewat WhatsApp?"]),
]


def _number(rng: random.Random) -> str:
    return f"+62812{rng.randrange(10_000_000, 99_999_999)}"


def _notification(account: WhatsAppAccount, number: str, name: str, wamid: str,
                  message: dict[str, object], ts: float) -> bytes:
    msg = {"from": number.lstrip("+"), "id": wamid, "timestamp": str(int(ts)), **message}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "demo", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": account.display_number.lstrip("+"),
                         "phone_number_id": account.phone_number_id},
            "contacts": [{"profile": {"name": name}, "wa_id": number.lstrip("+")}],
            "messages": [msg]}}]}]}).encode()


def _post(account: WhatsAppAccount, body: bytes) -> None:
    result = whatsapp.receive_webhook(body, whatsapp.sign(account.app_secret, body))
    assert result.status == 200, result.body


def build_whatsapp_calls(seed: int) -> None:
    rng = random.Random(seed + 606)
    clients = list(Client.objects.order_by("code"))
    accounts = []
    for i, client in enumerate(clients, start=1):
        accounts.append(WhatsAppAccount.objects.create(
            client=client, phone_number_id=f"10900000000{i}",
            display_number=f"+62 21 5000 10{i:02d}", app_secret=f"demo-app-secret-{client.code}",
            verify_token=f"demo-verify-{client.code}",
            access_token=f"demo-access-token-{client.code}", api_base=SANDBOX_BASE))
        WhatsAppTemplate.objects.create(
            client=client, name="case_update", language="id", approved=True,
            body="Halo {{1}}, ada kabar terbaru untuk kasus {{2}}. Balas pesan ini untuk "
                 "melanjutkan percakapan.")
        WhatsAppTemplate.objects.create(
            client=client, name="case_update", language="en", approved=True,
            body="Hello {{1}}, there is news on your case {{2}}. Reply to this message to "
                 "continue the conversation.")
        CtiNumber.objects.create(client=client, number=f"+622150002{i:03d}",
                                 queue=f"{client.name} — Inbound")
    if not accounts:
        return
    now = time.time()
    first_number = ""
    for n, (minutes, name, texts) in enumerate(CONVERSATIONS):
        account = accounts[n % len(accounts)]
        number = _number(rng)
        first_number = first_number or number
        for k, text in enumerate(texts):
            _post(account, _notification(account, number, name, f"wamid.DEMO{seed}{n}{k}",
                                         {"type": "text", "text": {"body": text}},
                                         now - minutes * 60 + k * 60))
        if n == 0:
            _post(account, _notification(account, number, name, f"wamid.DEMO{seed}{n}L", {
                "type": "location", "location": {"latitude": -6.2146, "longitude": 106.8451,
                                                 "name": "ATM Bank Nusantara Sudirman",
                                                 "address": "Jl. Jend. Sudirman, Jakarta"}},
                now - minutes * 60 + 180))
    account = accounts[0]
    agent = (User.objects.filter(clients=account.client, role=Role.AGENT, is_active=True)
             .order_by("username").first())
    if agent is not None:
        customer = find_by_identity(account.client, IdentityKind.WHATSAPP, first_number)
        first = Case.objects.filter(customer=customer, channel="whatsapp").first()
        if first is not None and whatsapp.window_open(first):
            cases.reply(first, "Baik Ibu Rina, kartu Anda sudah kami blokir sementara. Kartu "
                        "pengganti bisa diambil di cabang terdekat dalam 3 hari kerja.",
                        by=agent)
        _calls(account.client, agent, rng, seed)


def _calls(client: Client, agent: User, rng: random.Random, seed: int) -> None:
    AgentExtension.objects.get_or_create(user=agent, defaults={"extension": "2001"})
    line = CtiNumber.objects.filter(client=client).first()
    assert line is not None
    start = timezone.now() - timedelta(hours=3)
    for n, (talk, hold, acw) in enumerate([(245, 40, 60), (130, 0, 35)]):
        call_id = f"demo-{seed}-{n}"
        t0 = start + timedelta(minutes=40 * n)
        caller = _number(rng)
        steps = [("ringing", 0), ("answered", 8)]
        if hold:
            steps += [("held", 60), ("resumed", 60 + hold)]
        ended = 8 + talk + hold
        steps += [("ended", ended), ("wrapup_done", ended + acw)]
        for k, (kind, seconds) in enumerate(steps):
            outcome = telephony.receive_event({
                "event_id": f"{call_id}-{k}", "call_id": call_id, "type": kind,
                "at": t0 + timedelta(seconds=seconds), "direction": "inbound",
                "caller": caller, "dialled": line.number, "agent": agent.username,
                "queue": line.queue, "transfer_to": ""}, scope={client.pk})
            assert outcome.status == 200, outcome.body
