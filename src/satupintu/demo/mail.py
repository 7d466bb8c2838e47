"""Demo e-mail: receiving addresses for the three clients and a few Indonesian e-mails sent
through the real e-mail processor (a threaded reply, an old Windows-1252 mail, an HTML mail
with an attachment, an out-of-office that opens no case, and one for an unknown address)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

from satupintu.accounts.models import Client, Team

DOMAINS = {
    "bank-nusantara": ("halo@banknusantara.example", "Bank Nusantara — Layanan Nasabah", "high"),
    "telko-merah-putih": ("cs@telkomerahputih.example", "Telko Merah Putih Care", "normal"),
    "pasar-kita": ("bantuan@pasarkita.example", "PasarKita Bantuan", "normal"),
}


def _mail(sender: str, to: str, subject: str, body: str, message_id: str,
          headers: dict[str, str] | None = None, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, to, subject
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg


def _windows_1252_mail(to: str) -> bytes:
    """An old mail client: Windows-1252, quoted-printable, with curly quotes and a dash."""
    body = ("Selamat sore,\r\n\r\nTagihan pascabayar saya bulan Oktober “tidak sesuai” – "
            "tertulis Rp 487.500, padahal paket saya Rp 150.000 per bulan. Mohon dicek.\r\n\r\n"
            "Hormat saya,\r\nYohanes Pattinasarany\r\n")
    import quopri

    encoded = quopri.encodestring(body.encode("cp1252"))
    head = (f"From: Yohanes Pattinasarany <yohanes.p@surel.example>\r\nTo: {to}\r\n"
            "Subject: =?windows-1252?Q?Tagihan_Oktober_=93tidak_sesuai=94?=\r\n"
            f"Date: {formatdate(localtime=True)}\r\n"
            "Message-ID: <demo-cp1252-0001@surel.example>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=windows-1252\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\nX-Mailer: Outlook Express 6.0\r\n\r\n")
    return head.encode("ascii") + encoded


def build_mail(seed: int) -> None:
    from satupintu.mail import services

    clients = {c.code: c for c in Client.objects.filter(code__in=DOMAINS)}
    for code, (address, name, priority) in DOMAINS.items():
        client = clients.get(code)
        if client is None:
            continue
        team = Team.objects.filter(clients=client).order_by("id").first()
        services.save_address(client, address, by=None, display_name=name, default_team=team,
                              default_priority=priority)
    if len(clients) < len(DOMAINS):
        return
    bank, telko, pasar = (DOMAINS[c][0] for c in DOMAINS)

    def receive(raw: bytes, to: str, mail_from: str = "pelanggan@surel.example") -> None:
        services.receive_and_process(raw, recipients=[to], mail_from=mail_from, source="smtp")

    first = _mail("Budi Santoso <budi.santoso@surel.example>", bank,
                  "Kartu kredit terblokir setelah transaksi di luar negeri",
                  "Selamat siang,\n\nKartu kredit saya (berakhiran 4421) terblokir setelah saya "
                  "belanja di Singapura kemarin. Saya masih di luar negeri, mohon dibuka "
                  "kembali.\n\nTerima kasih,\nBudi Santoso", "<demo-bank-0001@surel.example>")
    receive(first.as_bytes(), bank)
    reply = _mail("Budi Santoso <budi.santoso@surel.example>", bank,
                  "Re: Kartu kredit terblokir setelah transaksi di luar negeri",
                  "Tambahan: transaksinya Rp 2.350.000 di Orchard Road, itu memang saya.\n\n"
                  "> Kartu kredit saya (berakhiran 4421) terblokir...",
                  "<demo-bank-0002@surel.example>",
                  headers={"In-Reply-To": "<demo-bank-0001@surel.example>",
                           "References": "<demo-bank-0001@surel.example>"})
    receive(reply.as_bytes(), bank)
    receive(_windows_1252_mail(telko), telko)
    order = _mail("Rina Wijaya <rina.wijaya@surel.example>", pasar,
                  "Paket pesanan PK-88213 belum sampai",
                  "Halo PasarKita,\n\nPesanan PK-88213 sudah 9 hari belum sampai. Bukti "
                  "pembayaran terlampir.\n\nSalam,\nRina",
                  "<demo-pasar-0001@surel.example>",
                  html="<p>Halo PasarKita,</p><p>Pesanan <b>PK-88213</b> sudah 9 hari belum "
                       "sampai. Bukti pembayaran terlampir.</p><p>Salam,<br>Rina</p>")
    order.add_attachment(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                         maintype="application", subtype="pdf",
                         filename="bukti-pembayaran-PK-88213.pdf")
    receive(order.as_bytes(), pasar)
    away = _mail("Budi Santoso <budi.santoso@surel.example>", bank,
                 "Balasan otomatis: Kartu kredit terblokir",
                 "Saya sedang cuti sampai 30 November.", "<demo-bank-ooo@surel.example>",
                 headers={"Auto-Submitted": "auto-replied"})
    receive(away.as_bytes(), bank)  # ignored: never a case, never a reply
    lost = _mail("Dimas <dimas@surel.example>", "info@tidakdikenal.example",
                 "Pertanyaan kerja sama", "Apakah ini alamat yang benar?",
                 "<demo-unknown-0001@surel.example>")
    receive(lost.as_bytes(), "info@tidakdikenal.example")  # quarantined with the reason
