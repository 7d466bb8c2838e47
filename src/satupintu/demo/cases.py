"""Demo customers and ~90 days of case history per client, seeded and bulk-inserted.

Everything is generated from the seed; dates are relative to today so the queues look alive.
Rows go in with ``bulk_create`` (the encrypted fields encrypt on the way in) so the whole
demo stays fast; references are numbered in creation order, as the service would.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from satupintu.accounts.models import Client, Team, User
from satupintu.accounts.roles import Role
from satupintu.cases.models import (
    CannedResponse,
    Case,
    CaseCounter,
    CaseEvent,
    Channel,
    ClientCaseSettings,
    ClientStatus,
    ContactReason,
    Priority,
    Status,
    Tag,
)
from satupintu.cases.services import format_reference
from satupintu.customers.crypto import blind_index
from satupintu.customers.identity import normalise_phone
from satupintu.customers.models import Customer, CustomerIdentity
from satupintu.customers.services import NIK_INDEX_KIND
from satupintu.demo.organisation import FIRST_NAMES, LAST_NAMES

CUSTOMERS_PER_CLIENT = 200
DAYS = 90
MOBILE_PREFIXES = ["811", "812", "813", "821", "822", "852", "853", "857", "858", "877",
                   "878", "895", "896", "897", "898", "899", "838", "831", "832"]
NIK_PLACES = ["3171", "3172", "3173", "3174", "3175", "3273", "3578", "7371", "1271", "5171"]
STREETS = ["Jl. Merdeka", "Jl. Sudirman", "Jl. Diponegoro", "Jl. Gatot Subroto", "Jl. Ahmad Yani",
           "Jl. Pemuda", "Jl. Veteran", "Jl. Pahlawan", "Jl. Hasanuddin", "Jl. Gajah Mada"]
CITIES = ["Jakarta", "Bandung", "Surabaya", "Makassar", "Medan", "Denpasar", "Semarang"]
CHANNELS = list(Channel.values)
PRIORITIES = list(Priority.values)
ORG_WORDS = ["Jaya", "Makmur", "Sentosa", "Abadi", "Mandiri"]
MAIL = ["gmail.com", "yahoo.co.id", "outlook.com", "mail.co.id"]

# Per client: (parent reason id/en, [(child id, child en, what customers write)]).
REASONS: dict[str, list[tuple[str, str, list[tuple[str, str, str]]]]] = {
    "bank-nusantara": [
        ("Kartu kredit", "Credit card", [
            ("Kartu terblokir", "Card blocked", "Kartu kredit saya terblokir waktu belanja."),
            ("Tagihan ganda", "Double charge", "Ada transaksi yang tertagih dua kali."),
            ("Kenaikan limit", "Limit increase", "Saya ingin menaikkan limit kartu."),
        ]),
        ("Rekening", "Account", [
            ("Saldo tidak sesuai", "Wrong balance", "Saldo rekening saya tidak sesuai."),
            ("Transfer gagal", "Failed transfer", "Transfer saya gagal tapi saldo terpotong."),
        ]),
        ("Fraud", "Fraud", [
            ("Transaksi mencurigakan", "Suspicious transaction",
             "Ada transaksi yang tidak saya lakukan."),
        ]),
    ],
    "telko-merah-putih": [
        ("Tagihan", "Billing", [
            ("Tagihan membengkak", "Bill too high", "Tagihan bulan ini jauh lebih besar."),
            ("Pembayaran belum masuk", "Payment missing", "Saya sudah bayar tapi belum masuk."),
        ]),
        ("Gangguan internet", "Internet outage", [
            ("Internet mati", "No connection", "Internet di rumah mati sejak pagi."),
            ("Internet lambat", "Slow internet", "Internet sangat lambat malam hari."),
        ]),
        ("Paket", "Packages", [
            ("Kuota tidak masuk", "Quota missing", "Paket kuota yang saya beli belum masuk."),
            ("Berhenti berlangganan", "Cancel subscription", "Saya ingin berhenti berlangganan."),
        ]),
    ],
    "pasar-kita": [
        ("Pesanan", "Orders", [
            ("Paket belum sampai", "Parcel not delivered", "Pesanan saya belum sampai."),
            ("Barang rusak", "Damaged item", "Barang yang saya terima rusak."),
        ]),
        ("Pengembalian dana", "Refunds", [
            ("Refund belum masuk", "Refund missing", "Dana pengembalian belum masuk."),
        ]),
        ("Penjual", "Sellers", [
            ("Pencairan dana", "Payout", "Dana penjualan toko saya belum cair."),
            ("Akun toko dibatasi", "Shop restricted", "Akun toko saya dibatasi."),
        ]),
    ],
}
REPLIES = [
    "Terima kasih sudah menghubungi kami, {name}. Kami sedang memeriksa kendala Anda.",
    "Mohon maaf atas ketidaknyamanannya, {name}. Tim kami sudah menindaklanjuti.",
    "Kendala sudah kami selesaikan. Silakan dicoba kembali, {name}.",
]
NOTES = ["Sudah dicek di sistem, eskalasi ke tim terkait.", "Nasabah prioritas, mohon cepat.",
         "Menunggu konfirmasi dari tim operasional.", "Sudah telepon balik, tidak diangkat."]
CUSTOMER_FOLLOW_UPS = ["Bagaimana perkembangannya?", "Sudah saya coba, masih belum bisa.",
                       "Terima kasih, sudah beres."]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        raw = "0" + rng.choice(MOBILE_PREFIXES) + "".join(rng.choice("0123456789")
                                                          for _ in range(8))
        value = normalise_phone(raw)
        if value not in used:
            used.add(value)
            return value


def _nik(rng: random.Random) -> str:
    female = rng.random() < 0.5
    born = datetime(1960, 1, 1) + timedelta(days=rng.randint(0, 16000))
    day = born.day + (40 if female else 0)
    return (f"{rng.choice(NIK_PLACES)}{rng.randint(1, 9):02d}{day:02d}{born.month:02d}"
            f"{born.year % 100:02d}{rng.randint(1, 999):04d}")


def _customers(client: Client, rng: random.Random, now: datetime) -> list[Customer]:
    used_phones: set[str] = set()
    used_mail: set[str] = set()
    rows: list[Customer] = []
    identities: list[tuple[int, str, str]] = []
    orgs = 12 if client.code == "pasar-kita" else 4
    for i in range(CUSTOMERS_PER_CLIENT):
        is_org = i < orgs
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if is_org:
            form = "CV" if rng.random() < 0.5 else "PT"
            name = f"{form} {last} {rng.choice(ORG_WORDS)}"
        else:
            name = f"{first} {last}"
        nik = _nik(rng) if not is_org and client.code == "bank-nusantara" else ""
        address = (f"{rng.choice(STREETS)} No. {rng.randint(1, 200)}, {rng.choice(CITIES)}"
                   if rng.random() < 0.6 else "")
        rows.append(Customer(
            client=client, kind=Customer.Kind.ORGANISATION if is_org else Customer.Kind.PERSON,
            name=name, nik=nik, nik_index=blind_index(NIK_INDEX_KIND, nik) if nik else "",
            address=address, language="en" if rng.random() < 0.08 else "id",
        ))
        phone = _phone(rng, used_phones)
        identities.append((i, "phone", phone))
        if rng.random() < 0.7:
            identities.append((i, "whatsapp", phone))
        if rng.random() < 0.6:
            mail = f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(MAIL)}".lower()
            if mail not in used_mail:
                used_mail.add(mail)
                identities.append((i, "email", mail))
    created = Customer.objects.bulk_create(rows, batch_size=500)
    # auto_now_add fields are set by bulk_create; spread "customer since" over two years.
    organisations = [c for c in created if c.kind == Customer.Kind.ORGANISATION]
    people = [c for c in created if c.kind == Customer.Kind.PERSON]
    for person in rng.sample(people, k=min(len(people), len(organisations) * 3)):
        person.organisation = rng.choice(organisations)
    Customer.objects.bulk_update([p for p in people if p.organisation_id], ["organisation"])
    Customer.objects.filter(client=client).update(created_at=now - timedelta(days=DAYS + 30))
    CustomerIdentity.objects.bulk_create([
        CustomerIdentity(customer=created[i], client=client, kind=kind, value=value,
                         blind_index=blind_index(kind, value), verified=rng.random() < 0.5)
        for i, kind, value in identities], batch_size=1000)
    return created


def _setup_client(client: Client) -> list[tuple[ContactReason, str]]:
    ClientCaseSettings.objects.create(client=client, reopen_window_days=7)
    ClientStatus.objects.bulk_create([
        ClientStatus(client=client, code="menunggu-vendor", name_id="Menunggu vendor",
                     name_en="Waiting for vendor", category=Status.PENDING_INTERNAL, order=1),
        ClientStatus(client=client, code="menunggu-dokumen", name_id="Menunggu dokumen",
                     name_en="Waiting for documents", category=Status.PENDING_CUSTOMER, order=2),
    ])
    CannedResponse.objects.bulk_create([
        CannedResponse(client=client, title="Salam pembuka",
                       body_id="Halo {customer_name}, terima kasih telah menghubungi kami. "
                               "Nomor kasus Anda {case_reference}.",
                       body_en="Hello {customer_name}, thank you for contacting us. "
                               "Your case number is {case_reference}."),
        CannedResponse(client=client, title="Penutup",
                       body_id="Kasus {case_reference} kami tutup. Terima kasih, "
                               "{customer_name}.",
                       body_en="We are closing case {case_reference}. Thank you, "
                               "{customer_name}."),
    ])
    leaves: list[tuple[ContactReason, str]] = []
    for parent_id, parent_en, children in REASONS.get(client.code, []):
        parent = ContactReason.objects.create(client=client, name_id=parent_id,
                                              name_en=parent_en)
        for child_id, child_en, text in children:
            leaves.append((ContactReason.objects.create(client=client, parent=parent,
                                                        name_id=child_id, name_en=child_en),
                           text))
    return leaves


def _final_status(rng: random.Random, age_days: float) -> str:
    if age_days > 14:
        return rng.choices([Status.CLOSED, Status.RESOLVED], [9, 1])[0]
    if age_days > 3:
        return rng.choices([Status.CLOSED, Status.RESOLVED, Status.OPEN,
                            Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL],
                           [3, 4, 1, 1, 1])[0]
    return rng.choices([Status.NEW, Status.OPEN, Status.PENDING_CUSTOMER,
                        Status.PENDING_INTERNAL, Status.RESOLVED], [3, 4, 2, 1, 2])[0]


_PATHS = {
    Status.NEW: [],
    Status.OPEN: [Status.OPEN],
    Status.PENDING_CUSTOMER: [Status.OPEN, Status.PENDING_CUSTOMER],
    Status.PENDING_INTERNAL: [Status.OPEN, Status.PENDING_INTERNAL],
    Status.RESOLVED: [Status.OPEN, Status.RESOLVED],
    Status.CLOSED: [Status.OPEN, Status.RESOLVED, Status.CLOSED],
}


def build(seed: int) -> None:
    rng = random.Random(seed + 5)
    now = timezone.now().replace(second=0, microsecond=0)
    planned: list[tuple[Case, list[Event], list[Tag]]] = []
    for client in Client.objects.order_by("code"):
        customers = _customers(client, rng, now)
        leaves = _setup_client(client)
        if not leaves:
            continue
        tags = Tag.objects.bulk_create([Tag(client=client, name=n) for n in
                                        ("vip", "eskalasi", "komplain-berulang", "media-sosial")])
        teams = list(Team.objects.filter(clients=client))
        agents = list(User.objects.filter(clients=client, role=Role.AGENT, is_active=True)
                      .filter(Q(team__in=teams)).order_by("username"))
        weights = [rng.paretovariate(1.3) for _ in customers]  # some customers call often
        for day in range(DAYS, -1, -1):
            date = now - timedelta(days=day)
            weekday = date.weekday()
            volume = rng.randint(6, 10) if weekday < 5 else rng.randint(2, 5)
            for _ in range(volume):
                opened = date.replace(hour=rng.choice([8, 9, 9, 10, 10, 11, 13, 14, 15, 16, 19,
                                                       21]), minute=rng.randint(0, 59))
                if opened > now:
                    opened = now - timedelta(minutes=rng.randint(5, 300))
                planned.append(_case(rng, client, rng.choices(customers, weights)[0], leaves,
                                     teams, agents, tags, opened, now))
    planned.sort(key=lambda p: p[0].created_at)
    _number(planned)
    cases = Case.objects.bulk_create([p[0] for p in planned], batch_size=1000)
    links = []
    for case, _events, case_tags in planned:
        links.extend(Case.tags.through(case_id=case.pk, tag_id=t.pk) for t in case_tags)
    _insert_events([(case.pk, e) for case, case_events, _t in planned for e in case_events])
    Case.tags.through.objects.bulk_create(links, batch_size=2000)
    assert len(cases) == len(planned)


Event = tuple[str, str, int | None, str, dict[str, object], datetime]


def _ev(*, kind: str, created_at: datetime, actor: User | None = None, channel: str = "",
        body: str = "", data: dict[str, object] | None = None) -> Event:
    return (kind, channel, actor.pk if actor else None, body, data or {}, created_at)


def _insert_events(rows: list[tuple[int, Event]]) -> None:
    """The timeline is the bulk of the demo (~15,000 rows): plain ``executemany`` instead of
    one model instance per row keeps ``satupintu demo`` and the tests that load it fast."""
    ops = connection.ops
    table = CaseEvent._meta.db_table
    sql = (f"INSERT INTO {table} (case_id, kind, channel, actor_id, body, data, created_at) "  # noqa: S608
           "VALUES (%s, %s, %s, %s, %s, %s, %s)")
    params = [(case_id, kind, channel, actor_id, body,
               ops.adapt_json_value(data, DjangoJSONEncoder),
               ops.adapt_datetimefield_value(at))
              for case_id, (kind, channel, actor_id, body, data, at) in rows]
    with connection.cursor() as cursor:
        for start in range(0, len(params), 5000):
            cursor.executemany(sql, params[start:start + 5000])


def _number(planned: list[tuple[Case, list[Event], list[Tag]]]) -> None:
    counters: dict[int, int] = dict(CaseCounter.objects.values_list("year", "last"))
    for case, _e, _t in planned:
        year = timezone.localtime(case.created_at).year
        counters[year] = counters.get(year, 0) + 1
        case.reference = format_reference(year, counters[year])
    for year, last in counters.items():
        CaseCounter.objects.update_or_create(year=year, defaults={"last": last})


def _case(rng: random.Random, client: Client, customer: Customer,
          leaves: list[tuple[ContactReason, str]], teams: list[Team], agents: list[User],
          tags: list[Tag], opened: datetime,
          now: datetime) -> tuple[Case, list[Event], list[Tag]]:
    reason, text = rng.choice(leaves)
    channel = rng.choices(CHANNELS, [3, 3, 5, 3, 1])[0]
    final = _final_status(rng, (now - opened).total_seconds() / 86400)
    agent = rng.choice(agents) if agents and final != Status.NEW else None
    team = agent.team if agent is not None else (rng.choice(teams) if teams else None)
    first_name = customer.name.split()[0]
    case = Case(client=client, customer=customer, subject=reason.name_id, status=final,
                priority=rng.choices(PRIORITIES, [2, 12, 4, 1])[0], channel=channel,
                reason=reason, team=team, assignee=agent, created_at=opened,
                updated_at=opened, changed_by=agent)
    events = [_ev(kind=CaseEvent.Kind.INBOUND, channel=channel, body=text,
                        created_at=opened)]
    at, state = opened, Status.NEW
    if agent is not None:
        at += timedelta(minutes=rng.randint(1, 90))
        events.append(_ev(kind=CaseEvent.Kind.ASSIGNMENT, actor=agent, created_at=at,
                                data={"assignee": [None, agent.pk]}))
    for target in _PATHS[final]:
        at += timedelta(minutes=rng.randint(5, 60 * 20))
        at = min(at, now)
        if target == Status.OPEN:
            events.append(_ev(kind=CaseEvent.Kind.OUTBOUND, actor=agent, channel=channel,
                                    body=rng.choice(REPLIES[:2]).format(name=first_name),
                                    created_at=at))
            if rng.random() < 0.35:
                events.append(_ev(kind=CaseEvent.Kind.NOTE, actor=agent,
                                        body=rng.choice(NOTES), created_at=at))
        elif target == Status.RESOLVED:
            if rng.random() < 0.3:
                events.append(_ev(kind=CaseEvent.Kind.INBOUND, channel=channel,
                                        body=rng.choice(CUSTOMER_FOLLOW_UPS), created_at=at))
            events.append(_ev(kind=CaseEvent.Kind.OUTBOUND, actor=agent, channel=channel,
                                    body=REPLIES[2].format(name=first_name), created_at=at))
            case.resolved_at = at
        elif target == Status.CLOSED:
            case.closed_at = at
        events.append(_ev(kind=CaseEvent.Kind.STATUS, actor=agent, created_at=at,
                                data={"from": state, "to": target, "custom": "", "why": ""}))
        state = target
    case.updated_at = at
    case.version = len(events)
    chosen = [t for t in tags if rng.random() < 0.06]
    return case, events, chosen
