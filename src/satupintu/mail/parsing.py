"""Reading a MIME message defensively: whatever the bytes, a ParsedMail comes out.

Old Indonesian mail is often ISO-8859-1 or Windows-1252, and often declares the wrong charset
(or none). Text is decoded with the declared charset first; ISO-8859-1 is read as
Windows-1252 (its superset, as browsers do); invalid UTF-8 falls back to Windows-1252 when
nothing in it looks like UTF-8, else keeps the valid parts. HTML is sanitised with nh3 (no
scripts, styles, images or event handlers) before anything stores or shows it.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

import nh3

MAX_HTML_CHARS = 200_000
_ID_RE = re.compile(r"<([^<>\s]{1,250})>")
_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/li|/tr|/h[1-6]|/blockquote|/table)\s*>")
_BLANK_LINES = re.compile(r"\n{3,}")
_LATIN1_NAMES = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "iso_8859-1",
                 "us-ascii", "ascii", "windows-1252", "cp1252"}
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
}


@dataclass
class Attachment:
    name: str
    content: bytes
    content_type: str
    inline: bool = False
    content_id: str = ""


@dataclass
class ParsedMail:
    message_id: str = ""
    from_address: str = ""
    from_name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""                      # sanitised
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)   # the few we judge loops by
    is_report: bool = False             # multipart/report (a DSN or read receipt)
    defects: int = 0


def clean_text(value: str) -> str:
    """Safe to store: no NUL (PostgreSQL refuses it), no lone surrogates."""
    if not value:
        return ""
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes to text with the fallbacks described at the top of this module."""
    name = (charset or "").strip().strip('"').lower()
    if name in _LATIN1_NAMES or not name:
        # Valid UTF-8 with non-ASCII in it is almost never real Latin-1 text: a mislabel.
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            return _cp1252(data)
    if name not in {"utf-8", "utf8"}:
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass  # unknown or wrong declaration: guess below
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        loose = data.decode("utf-8", "replace")
        if any(ord(ch) > 127 and ch != "\ufffd" for ch in loose):
            return loose  # mostly UTF-8 with some damage: keep what is valid
        return _cp1252(data)


def _cp1252(data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:  # the five bytes Windows-1252 leaves undefined
        return data.decode("latin-1")


def sanitise_html(value: str) -> str:
    if not value:
        return ""
    return nh3.clean(value[:MAX_HTML_CHARS], tags=ALLOWED_TAGS,
                     url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


def html_to_text(value: str) -> str:
    if not value:
        return ""
    marked = _BLOCK_END.sub("\n", value[:MAX_HTML_CHARS])
    text = html_lib.unescape(nh3.clean(marked, tags=set()))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def message_ids(value: str) -> list[str]:
    """Message-IDs from In-Reply-To / References, in order, without angle brackets."""
    found = _ID_RE.findall(value or "")
    if not found and value and "<" not in value and " " not in value.strip():
        found = [value.strip()]
    return [clean_text(v)[:250] for v in found]


def normalise_message_id(value: str) -> str:
    ids = message_ids(value)
    return ids[0] if ids else ""


def external_id(raw: bytes, message_id: str) -> str:
    """What deduplicates a delivery: the Message-ID, or the bytes' hash when there is none."""
    return message_id[:255] if message_id else "sha256:" + hashlib.sha256(raw).hexdigest()


def quick_message_id(raw: bytes) -> str:
    """The Message-ID from the header block only (cheap, for the SMTP endpoint)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:65536]
    try:
        msg = BytesParser(policy=policy.compat32).parsebytes(head, headersonly=True)
        value = msg.get("Message-ID", "")
        return normalise_message_id(clean_text(str(value)))
    except Exception:
        return ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header policy.default cannot parse: read it raw
        value = None
        for key, raw_value in msg.raw_items() if hasattr(msg, "raw_items") else []:
            if key.lower() == name.lower():
                value = raw_value
                break
    if value is None:
        return ""
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # raw 8-bit bytes in a header
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return clean_text(" ".join(text.split()))


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        return ""
    if not isinstance(payload, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return clean_text(decode_bytes(payload, charset))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    return clean_text(str(name)).strip()


def parse(raw: bytes) -> ParsedMail:
    """Never raises on bad input: defects are counted, unreadable parts skipped."""
    try:
        msg: Message = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:
        msg = BytesParser(policy=policy.compat32).parsebytes(raw)
    out = ParsedMail(defects=len(getattr(msg, "defects", []) or []))
    out.message_id = normalise_message_id(_header(msg, "Message-ID"))
    try:
        name, address = parseaddr(_header(msg, "From"))
    except Exception:
        name, address = "", ""
    if not address:
        sender = getaddresses([_header(msg, "Sender")])
        address = sender[0][1] if sender else ""
    out.from_name, out.from_address = clean_text(name)[:200], clean_text(address).strip()[:254]
    out.subject = _header(msg, "Subject")[:500]
    out.in_reply_to = message_ids(_header(msg, "In-Reply-To"))
    out.references = message_ids(_header(msg, "References"))
    for key in ("Auto-Submitted", "X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress",
                "Precedence", "Return-Path", "X-SatuPintu-Loop", "X-Failed-Recipients"):
        if key in msg:
            out.headers[key.lower()] = _header(msg, key)
    try:
        out.is_report = msg.get_content_type() == "multipart/report"
    except Exception:
        out.is_report = False

    plain_part, html_part = _bodies(msg)
    if plain_part is not None:
        out.text = _part_text(plain_part)
    if html_part is not None:
        out.html = sanitise_html(_part_text(html_part))
        if not out.text.strip():
            out.text = html_to_text(out.html)
    skip = {id(p) for p in (plain_part, html_part) if p is not None}
    out.attachments = _attachments(msg, skip)
    return out


def _bodies(msg: Message) -> tuple[Message | None, Message | None]:
    plain = html = None
    if isinstance(msg, EmailMessage):
        try:
            plain = msg.get_body(preferencelist=("plain",))
            html = msg.get_body(preferencelist=("html",))
        except Exception:
            plain = html = None
    if plain is None and html is None:  # odd structure: first text parts found
        for part in msg.walk():
            try:
                ctype = part.get_content_type()
            except Exception:  # noqa: S112 - an unreadable part is skipped
                continue
            if part.is_multipart() or _filename(part):
                continue
            if ctype == "text/plain" and plain is None:
                plain = part
            elif ctype == "text/html" and html is None:
                html = part
    return plain, html


def _attachments(msg: Message, skip: set[int]) -> list[Attachment]:
    found: list[Attachment] = []
    for index, part in enumerate(msg.walk()):
        if id(part) in skip or part.is_multipart():
            continue
        try:
            ctype = part.get_content_type()
            disposition = (part.get_content_disposition() or "").lower()
        except Exception:  # noqa: S112 - an unreadable part is skipped
            continue
        if ctype.startswith(("message/", "multipart/")):
            continue
        name = _filename(part)
        if ctype.startswith("text/") and not name and disposition != "attachment":
            continue  # another rendering of the body
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # noqa: S112 - an unreadable part is skipped
            continue
        if not isinstance(payload, bytes) or not payload:
            continue
        cid = normalise_message_id(_header(part, "Content-ID"))
        if not name:
            subtype = ctype.split("/", 1)[-1].split("+")[0][:10] or "bin"
            name = f"inline-{index}.{subtype}"
        found.append(Attachment(name=name[:200], content=payload, content_type=ctype,
                                inline=disposition == "inline" or bool(cid), content_id=cid))
    return found
