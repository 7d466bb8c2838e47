"""Character sets, broken MIME and HTML: whatever arrives is read, never a crash."""

from __future__ import annotations

from satupintu.mail import parsing


def _mail(body: bytes, ctype: str = "text/plain", charset: str | None = "utf-8",
          extra: bytes = b"", cte: str = "8bit") -> bytes:
    param = f'; charset="{charset}"' if charset is not None else ""
    return (b"From: Siti <siti@contoh.example>\r\nTo: halo@alpha.example\r\n"
            b"Subject: Tagihan\r\nMessage-ID: <p1@contoh.example>\r\n" + extra
            + f"MIME-Version: 1.0\r\nContent-Type: {ctype}{param}\r\n"
              f"Content-Transfer-Encoding: {cte}\r\n\r\n".encode() + body)


def test_iso_8859_1_declared_and_windows_1252_quotes_read_right() -> None:
    # "Terima kasih atas “bantuan” Anda – 50 €" as Windows-1252, labelled ISO-8859-1
    body = "Terima kasih atas “bantuan” Anda – 50 € · café".encode("cp1252")
    parsed = parsing.parse(_mail(body, charset="iso-8859-1"))
    assert parsed.text.strip() == "Terima kasih atas “bantuan” Anda – 50 € · café"


def test_windows_1252_declared() -> None:
    body = "Mohon dibantu, saldo berkurang Rp 50.000 • “segera”".encode("cp1252")
    parsed = parsing.parse(_mail(body, charset="windows-1252"))
    assert "“segera”" in parsed.text and "•" in parsed.text


def test_missing_charset_with_latin_bytes_falls_back() -> None:
    parsed = parsing.parse(_mail("Sudah saya transfer ke rekening. Café ½".encode("cp1252"),
                                 charset=None))
    assert "Café ½" in parsed.text


def test_wrong_charset_declared_utf8_but_cp1252_bytes() -> None:
    parsed = parsing.parse(_mail("Paket belum sampai – “kurir” bilang sudah".encode("cp1252")))
    assert "“kurir”" in parsed.text


def test_unknown_charset_guesses() -> None:
    parsed = parsing.parse(_mail("Nomor pelanggan saya: 12345 — mohon dicek".encode(),
                                 charset="x-unknown-8bit-thing"))
    assert "— mohon dicek" in parsed.text


def test_invalid_utf8_keeps_the_valid_parts() -> None:
    body = "Tagihan bulan ini naik 20% — kenapa?".encode() + b"\xff\xfe broken"
    parsed = parsing.parse(_mail(body))
    assert "— kenapa?" in parsed.text and "broken" in parsed.text
    parsed.text.encode("utf-8")  # storable


def test_raw_8bit_header_and_nul_bytes_are_storable() -> None:
    raw = _mail(b"halo\x00dunia", extra=b"X-Note: ok\r\n").replace(
        b"Subject: Tagihan", b"Subject: Tagihan \xe9t\xe9 \xff")
    parsed = parsing.parse(raw)
    parsed.subject.encode("utf-8")
    assert parsed.subject.startswith("Tagihan")
    assert "\x00" not in parsed.text and "halodunia" in parsed.text


def test_encoded_word_subject_in_latin1() -> None:
    raw = _mail(b"isi").replace(b"Subject: Tagihan",
                                b"Subject: =?ISO-8859-1?Q?Pertanyaan_caf=E9?=")
    assert parsing.parse(raw).subject == "Pertanyaan café"


def test_html_is_sanitised_and_becomes_text() -> None:
    html = ('<html><head><style>p{color:red}</style><script>alert(1)</script></head><body>'
            '<p onclick="steal()">Halo <b>tim</b>,</p><p>Mohon <a href="javascript:x()">klik</a>'
            ' <a href="https://bank.example/x">di sini</a></p><img src="https://t.example/p.gif">'
            '<iframe src="https://evil.example"></iframe></body></html>')
    parsed = parsing.parse(_mail(html.encode(), ctype="text/html"))
    assert "<script" not in parsed.html and "onclick" not in parsed.html
    assert "javascript:" not in parsed.html and "<img" not in parsed.html
    assert "<iframe" not in parsed.html and "alert(1)" not in parsed.html
    assert '<a href="https://bank.example/x" rel="noopener noreferrer nofollow">' in parsed.html
    assert parsed.text.splitlines()[0] == "Halo tim,"
    assert "color:red" not in parsed.text


def test_malformed_mime_never_raises() -> None:
    cases = [
        b"",
        b"\xff\xfe\x00garbage without headers",
        b"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n--other\r\nbroken",
        b"Content-Type: multipart/alternative\r\n\r\nno boundary at all",
        b"From: <<<@@@>>>\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!",
        b"Subject: =?utf-8?B?!!!?=\r\nIn-Reply-To: <a@b> <c\r\n\r\nx",
        b"From: a@b.c\r\nContent-Type: text/plain; charset=\"\"\r\n\r\n\xc3\x28",
    ]
    for raw in cases:
        parsed = parsing.parse(raw)
        (parsed.text + parsed.subject + parsed.from_address).encode("utf-8")


def test_attachments_and_inline_images_found() -> None:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@b.example", "halo@alpha.example", "Bukti"
    msg.set_content("Terlampir bukti transfer.")
    msg.add_alternative('<p>Terlampir <img src="cid:logo1"></p>', subtype="html")
    msg.get_payload()[1].add_related(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, maintype="image",
                                     subtype="png", cid="<logo1>")
    msg.add_attachment(b"%PDF-1.4\n%test\n", maintype="application", subtype="pdf",
                       filename="bukti-transfer.pdf")
    parsed = parsing.parse(msg.as_bytes())
    names = {a.name: a for a in parsed.attachments}
    assert "bukti-transfer.pdf" in names
    inline = [a for a in parsed.attachments if a.inline]
    assert inline and inline[0].content_type == "image/png" and inline[0].content_id == "logo1"
    assert parsed.text.strip() == "Terlampir bukti transfer."


def test_message_ids() -> None:
    assert parsing.message_ids("<a@b> <c@d>\r\n <e@f>") == ["a@b", "c@d", "e@f"]
    assert parsing.normalise_message_id("bare@id") == "bare@id"
    assert parsing.external_id(b"x", "") .startswith("sha256:")


def test_utf8_labelled_as_latin1_is_read_as_utf8() -> None:
    parsed = parsing.parse(_mail("Pesanan “PK-1” – café".encode(), charset="iso-8859-1"))
    assert "Pesanan “PK-1” – café" in parsed.text
