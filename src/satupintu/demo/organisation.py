"""The demo BPO: 3 clients, 2 sites, 6 teams, ~60 agents and every other role, seeded."""

from __future__ import annotations

import random
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.utils.translation import gettext as _

from satupintu.accounts.models import (
    AgentSkill,
    Client,
    ContactCenter,
    Site,
    Skill,
    Team,
    User,
)
from satupintu.accounts.roles import Role
from satupintu.audit import services as audit

DEMO_PASSWORD = "satupintu-demo"  # noqa: S105  (printed to the person running the demo)

FIRST_NAMES = [
    "Dewi", "Budi", "Siti", "Agus", "Rina", "Andi", "Putri", "Wahyu", "Ayu", "Rizky", "Indah",
    "Fajar", "Nur", "Eko", "Sri", "Hendra", "Lestari", "Yusuf", "Ratna", "Bayu", "Wulan",
    "Dimas", "Intan", "Arif", "Mega", "Teguh", "Fitri", "Joko", "Nadia", "Galih", "Kartika",
    "Rudi", "Maya", "Ilham", "Anisa", "Hadi", "Citra", "Yoga", "Dian", "Reza", "Sari",
    "Taufik", "Novi", "Irfan", "Ningsih", "Slamet", "Gita", "Ahmad", "Kurnia", "Bagus",
]
LAST_NAMES = [
    "Lestari", "Santoso", "Wijaya", "Saputra", "Hidayat", "Pratama", "Kusuma", "Nugroho",
    "Setiawan", "Siregar", "Simanjuntak", "Rahmawati", "Hasibuan", "Wibowo", "Handayani",
    "Susanto", "Gunawan", "Purnomo", "Sitompul", "Halim", "Daeng", "Pattinasarany",
    "Rahman", "Syahputra", "Permana", "Utami", "Harahap", "Manurung", "Fauzi", "Putra",
]


@dataclass(frozen=True)
class ClientSpec:
    code: str
    name: str
    industry: str
    skills: tuple[tuple[str, str], ...]


CLIENTS = [
    ClientSpec("bank-nusantara", "Bank Nusantara", "Perbankan",
               (("bank-card", "Kartu kredit"), ("bank-savings", "Tabungan & rekening"),
                ("bank-fraud", "Blokir & fraud"), ("bank-loan", "Kredit & pinjaman"))),
    ClientSpec("telko-merah-putih", "Telko Merah Putih", "Telekomunikasi",
               (("telco-billing", "Tagihan pascabayar"), ("telco-internet", "Gangguan internet"),
                ("telco-prepaid", "Paket prabayar"), ("telco-retention", "Retensi pelanggan"))),
    ClientSpec("pasar-kita", "PasarKita", "E-commerce marketplace",
               (("mp-orders", "Pesanan & pengiriman"), ("mp-refund", "Pengembalian dana"),
                ("mp-seller", "Dukungan penjual"))),
]
LANGUAGE_SKILLS = [
    ("lang-id", "Bahasa Indonesia"), ("lang-en", "English"), ("lang-jv", "Basa Jawa"),
]

# (site code, team name, client codes, number of agents)
TEAMS = [
    ("jkt", "Bank Nusantara — Kartu & Fraud", ("bank-nusantara",), 10),
    ("jkt", "Bank Nusantara — Layanan Umum", ("bank-nusantara",), 10),
    ("jkt", "Telko — Tagihan & Teknis", ("telko-merah-putih",), 11),
    ("mks", "Telko — Retensi & Prabayar", ("telko-merah-putih",), 9),
    ("mks", "PasarKita — Pesanan", ("pasar-kita",), 11),
    ("mks", "PasarKita & Telko — Multi-skill", ("pasar-kita", "telko-merah-putih"), 9),
]

# Named personas: (username, role, language, team index or None, client codes or None = all)
PERSONAS = [
    ("agent", Role.AGENT, "id", 0, None),
    ("agent.telko", Role.AGENT, "id", 2, None),
    ("leader", Role.TEAM_LEADER, "id", 0, None),
    ("supervisor", Role.SUPERVISOR, "en", None, ("bank-nusantara", "telko-merah-putih")),
    ("qa", Role.QA_ANALYST, "id", None, ("bank-nusantara", "telko-merah-putih", "pasar-kita")),
    ("planner", Role.WFM_PLANNER, "en", None, None),
    ("manager", Role.MANAGER, "en", None, None),
    ("viewer.bank", Role.CLIENT_VIEWER, "id", None, ("bank-nusantara",)),
    ("viewer.telko", Role.CLIENT_VIEWER, "en", None, ("telko-merah-putih",)),
    ("admin", Role.ADMIN, "en", None, None),
]


def is_loaded() -> bool:
    return Client.objects.filter(code=CLIENTS[0].code).exists()


def demo_logins() -> list[tuple[str, str, str]]:
    notes = {
        "agent": _("agent, Bank Nusantara"),
        "agent.telko": _("agent, Telko Merah Putih"),
        "leader": _("team leader, Bank Nusantara"),
        "supervisor": _("supervisor (bank and telco)"),
        "qa": _("QA analyst"),
        "planner": _("workforce planner"),
        "manager": _("manager"),
        "viewer.bank": _("client viewer, Bank Nusantara only"),
        "viewer.telko": _("client viewer, Telko Merah Putih only"),
        "admin": _("administrator"),
    }
    rows = []
    for username, role, _lang, _team, _clients in PERSONAS:
        rows.append((str(Role(role).label), username, str(notes[username])))
    return rows


class _Names:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def next(self) -> tuple[str, str, str]:
        while True:
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
            username = f"{first}.{last}".lower()
            if username not in self.used:
                self.used.add(username)
                return first, last, username


def build(seed: int) -> None:
    rng = random.Random(seed)
    names = _Names(rng)
    password = make_password(DEMO_PASSWORD)
    center = ContactCenter.objects.create(name="Nusantara Contact Solutions")
    sites = {
        "jkt": Site.objects.create(center=center, code="jkt", name="Jakarta — Kuningan",
                                   city="Jakarta", timezone="Asia/Jakarta"),
        "mks": Site.objects.create(center=center, code="mks", name="Makassar — Panakkukang",
                                   city="Makassar", timezone="Asia/Makassar"),
    }
    clients: dict[str, Client] = {}
    client_skills: dict[str, list[Skill]] = {}
    for spec in CLIENTS:
        client = Client.objects.create(center=center, code=spec.code, name=spec.name,
                                       industry=spec.industry)
        clients[spec.code] = client
        client_skills[spec.code] = [
            Skill.objects.create(code=code, name=name, kind=Skill.Kind.PRODUCT, client=client)
            for code, name in spec.skills
        ]
    languages = {code: Skill.objects.create(code=code, name=name, kind=Skill.Kind.LANGUAGE)
                 for code, name in LANGUAGE_SKILLS}

    def person(username: str | None, role: str, *, language: str = "id",
               site: Site | None = None, team: Team | None = None) -> User:
        first, last, generated = names.next()
        user = User(username=username or generated, first_name=first, last_name=last,
                    full_name=f"{first} {last}", role=role, language=language, site=site,
                    team=team, password=password,
                    email=f"{(username or generated)}@demo.satupintu.id")
        user.save()
        return user

    teams: list[Team] = []
    skill_rows: list[AgentSkill] = []
    for site_code, team_name, client_codes, size in TEAMS:
        team = Team.objects.create(site=sites[site_code], name=team_name)
        team.clients.set([clients[c] for c in client_codes])
        teams.append(team)
        leader = person("leader" if not teams[:-1] else None, Role.TEAM_LEADER,
                        site=sites[site_code], team=team)
        leader.clients.set(team.clients.all())
        team.leader = leader
        team.save(update_fields=["leader"])
        for i in range(size):
            username = None
            for p_user, p_role, _lang, p_team, _c in PERSONAS:
                if p_role == Role.AGENT and p_team == len(teams) - 1 and i == 0:
                    username = p_user
            agent = person(username, Role.AGENT, site=sites[site_code], team=team)
            agent.clients.set(team.clients.all())
            skill_rows.append(AgentSkill(user=agent, skill=languages["lang-id"],
                                         proficiency=rng.choice([4, 5, 5])))
            if rng.random() < 0.45:
                skill_rows.append(AgentSkill(user=agent, skill=languages["lang-en"],
                                             proficiency=rng.randint(2, 5)))
            if rng.random() < 0.3:
                skill_rows.append(AgentSkill(user=agent, skill=languages["lang-jv"],
                                             proficiency=rng.randint(3, 5)))
            pool = [s for c in client_codes for s in client_skills[c]]
            for skill in rng.sample(pool, k=min(len(pool), rng.randint(2, 4))):
                skill_rows.append(AgentSkill(user=agent, skill=skill,
                                             proficiency=rng.choices([1, 2, 3, 4, 5],
                                                                     [1, 3, 4, 3, 2])[0]))
    AgentSkill.objects.bulk_create(skill_rows)

    for username, role, language, _team, client_codes in PERSONAS:
        if role in (Role.AGENT, Role.TEAM_LEADER):
            User.objects.filter(username=username).update(language=language)
            continue
        site = sites["mks"] if username == "viewer.telko" else sites["jkt"]
        user = person(username, role, language=language, site=site)
        codes = client_codes or tuple(clients)
        user.clients.set([clients[c] for c in codes])
    # A second supervisor, QA analyst for the Makassar floor.
    for role, codes in ((Role.SUPERVISOR, ("telko-merah-putih", "pasar-kita")),
                        (Role.QA_ANALYST, ("pasar-kita",))):
        user = person(None, role, site=sites["mks"])
        user.clients.set([clients[c] for c in codes])
    audit.record("demo.loaded", actor_label="satupintu demo", data={"seed": seed})
