"""Demo web chat: each client's widget switched on, and two finished chats that went the real
way (pre-chat form, messages stored raw and processed, agent replies, a transcript, the end).
The chat test page (a pretend client site embedding the widget) is at /chat/demo/."""

from __future__ import annotations

import random

from django.utils.translation import gettext as _

from satupintu.accounts.models import Client, User
from satupintu.cases import services as cases
from satupintu.webchat import services
from satupintu.webchat.models import WidgetSettings

TEST_PAGE = "/chat/demo/"

# (client code, agent username, visitor name, contact, topic, [(who, text)])
CONVERSATIONS = [
    ("bank-nusantara", "agent", "Rina Wulandari", "rina.wulandari@gmail.com",
     "Kartu kredit terblokir", [
         ("visitor", "Selamat siang, kartu kredit saya terblokir waktu belanja online."),
         ("agent", "Selamat siang Ibu Rina, saya bantu cek. Boleh tahu 4 digit terakhir "
                   "kartunya?"),
         ("visitor", "4417."),
         ("agent", "Terima kasih. Blokir terjadi karena transaksi mencurigakan; sudah saya "
                   "buka kembali. Silakan coba lagi dalam 5 menit."),
         ("visitor", "Sudah berhasil, terima kasih banyak!"),
     ]),
    ("telko-merah-putih", "agent.telko", "Budi Santoso", "081298765432",
     "Kuota internet", [
         ("visitor", "Kuota saya habis padahal baru beli paket kemarin."),
         ("agent", "Halo Pak Budi, saya lihat ada pemakaian aplikasi video di latar belakang. "
                   "Saya kirim panduan cara membatasinya, ya."),
         ("visitor", "Oke, saya coba. Terima kasih."),
     ]),
]


def start_message(base_url: str = "") -> str:
    """The line the demo prints so people find the chat test page."""
    return _("Web chat test page (log in first): %(path)s") % {
        "path": base_url.rstrip("/") + TEST_PAGE}


def build_webchat(seed: int) -> None:
    rng = random.Random(seed)
    for client in Client.objects.filter(is_active=True):
        WidgetSettings.objects.get_or_create(
            client=client, defaults={"allowed_origins": f"https://www.{client.code}.co.id"})
    for code, agent_name, name, contact, topic, lines in CONVERSATIONS:
        client = Client.objects.filter(code=code).first()
        agent = User.objects.filter(username=agent_name).first()
        if client is None or agent is None:
            continue
        first = lines[0][1]
        session, _token = services.start_session(client, name=name, contact=contact,
                                                 topic=topic, message=first)
        for i, (who, text) in enumerate(lines[1:], start=1):
            session.refresh_from_db()
            if who == "visitor":
                services.receive(session, f"demo-{rng.getrandbits(48):012x}-{i}", text)
            else:
                cases.reply(session.case, text, by=agent, channel="chat")
        session.refresh_from_db()
        services.mark_read(session, session.last_seq, by_agent=True)
        services.mark_read(session, session.last_seq, by_agent=False)
        if "@" in contact:
            services.send_transcript(session)
        services.end_session(session)
        cases.change_status(session.case, "resolved", by=agent)
