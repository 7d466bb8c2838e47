"""Case writes: create, reply, note, status, assignment and details, links, customer replies.

Each service checks role and client scope, locks the case row, checks the caller's
``expected_version`` (optimistic concurrency: two agents on one case never overwrite each
other silently), writes the change and its timeline event in one transaction, and audits.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import re
import secrets
import zipfile
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from satupintu.accounts.models import Team, User
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.cases import live, signals
from satupintu.cases.models import (
    TRANSITIONS,
    Attachment,
    CannedResponse,
    Case,
    CaseCounter,
    CaseEvent,
    CaseLink,
    Channel,
    ClientCaseSettings,
    ClientStatus,
    ContactReason,
    Priority,
    SavedView,
    Status,
    Tag,
)
from satupintu.customers.models import Customer
from satupintu.customers.services import require_client, resolve

if TYPE_CHECKING:
    from satupintu.accounts.models import Client

MAX_BODY = 20_000
REFERENCE_PREFIX = "SP"


def format_reference(year: int, number: int) -> str:
    return f"{REFERENCE_PREFIX}-{year}-{number:06d}"


def allocate_reference(when: datetime | None = None) -> str:
    """The next reference of the year. Call inside the creating transaction: the counter row
    stays locked until it commits, and a rollback gives the number back (no gaps)."""
    year = timezone.localtime(when or timezone.now()).year
    audit.lock_chain()  # lock order: audit chain, then counter (see audit.lock_chain)
    counter, _created = CaseCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return format_reference(year, counter.last)


def _body(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Write a message first."), code="empty")
    if len(text) > MAX_BODY:
        raise ValidationError(_("A message is at most %(n)d characters.") % {"n": MAX_BODY},
                              code="too_long")
    return text


def _lock(case: Case, expected_version: int | None) -> Case:
    """Re-read the case under a row lock and refuse a stale edit."""
    fresh = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and fresh.version != expected_version:
        who = fresh.changed_by.display_name if fresh.changed_by else _("someone else")
        raise ValidationError(
            _("This case was changed by %(name)s while you were working on it; reload it and "
              "try again.") % {"name": who}, code="stale")
    return fresh


def _touch(case: Case, by: User | None, now: datetime, fields: Iterable[str] = ()) -> None:
    case.version += 1
    case.changed_by = by
    case.updated_at = now
    case.save(update_fields=["version", "changed_by", "updated_at", *fields])


def _event(case: Case, kind: str, *, actor: User | None, now: datetime, body: str = "",
           channel: str = "", data: dict[str, Any] | None = None) -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, actor=actor, body=body,
                                    channel=channel, data=data or {}, created_at=now)


def _sla(case: Case, now: datetime) -> None:
    """Re-evaluate the case's SLA clocks in the writing transaction (the sla app builds on
    cases, hence the late import)."""
    from satupintu.sla.services import recompute

    recompute(case, now)


def _require_worker(by: User, case_or_client_id: int) -> None:
    require_perm(by, Perm.VIEW_OWN_WORK)
    require_client(by, case_or_client_id)


def _check_refs(client_id: int, *, reason: ContactReason | None = None,
                team: Team | None = None, assignee: User | None = None) -> None:
    if reason is not None and reason.client_id != client_id:
        raise ValidationError(_("That contact reason belongs to another client."))
    if team is not None and not team.clients.filter(pk=client_id).exists():
        raise ValidationError(_("That team does not serve this client."))
    if assignee is not None and (not assignee.is_active or
                                 Perm.VIEW_OWN_WORK not in assignee.permissions or
                                 client_id not in client_ids(assignee)):
        raise ValidationError(_("That person cannot work on this client's cases."))


@transaction.atomic
def create_case(
    client: Client,
    customer: Customer,
    subject: str,
    *,
    by: User | None,
    body: str = "",
    channel: str = Channel.EMAIL,
    priority: str = Priority.NORMAL,
    reason: ContactReason | None = None,
    team: Team | None = None,
    assignee: User | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> Case:
    """Open a case for a customer. ``by=None`` is the system (an inbound channel); then the
    body is the customer's first message and ``data`` is kept on its timeline entry."""
    if by is not None:
        _require_worker(by, client.pk)
    customer = resolve(customer)
    if customer.client_id != client.pk:
        raise ValidationError(_("The customer belongs to another client."))
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError(_("Give the case a subject."), code="subject_required")
    if channel not in Channel.values:
        raise ValidationError(_("Unknown channel: %(channel)s") % {"channel": channel})
    if priority not in Priority.values:
        raise ValidationError(_("Unknown priority: %(priority)s") % {"priority": priority})
    _check_refs(client.pk, reason=reason, team=team, assignee=assignee)
    now = now or timezone.now()
    case = Case.objects.create(
        client=client, reference=allocate_reference(now), customer=customer,
        subject=subject[:200], channel=channel, priority=priority, reason=reason, team=team,
        assignee=assignee, created_by=by, changed_by=by, created_at=now, updated_at=now,
    )
    first = None
    if body:
        first = _event(case, CaseEvent.Kind.INBOUND, actor=None, body=_body(body),
                       channel=channel, now=now, data=data)
    audit.record("cases.created", actor=by, obj=case, client=client, request=request,
                 data={"reference": case.reference, "channel": channel})
    _sla(case, now)
    if assignee is not None:
        live.publish_case(case, "assigned")
    if first is not None and by is None:
        signals.customer_wrote.send(sender=Case, case=case, event=first, channel=channel)
    return case


def _resolve_status(case: Case, status: str) -> tuple[str, ClientStatus | None]:
    """Accept a category (``resolved``) or one of the client's own status codes."""
    if status in Status.values:
        return status, None
    custom = ClientStatus.objects.filter(client_id=case.client_id, code=status).first()
    if custom is None:
        raise ValidationError(_("Unknown status: %(status)s") % {"status": status},
                              code="unknown_status")
    return custom.category, custom


def _apply_status(case: Case, target: str, custom: ClientStatus | None, *, by: User | None,
                  now: datetime, why: str = "") -> CaseEvent:
    old = case.status
    if target != old and target not in TRANSITIONS[old]:
        raise ValidationError(
            _("A case cannot go from “%(old)s” to “%(new)s”.")
            % {"old": Status(old).label, "new": Status(target).label}, code="bad_transition")
    if target == old and custom == case.client_status:
        raise ValidationError(_("The case already has this status."), code="same_status")
    case.status, case.client_status = target, custom
    if target == Status.RESOLVED:
        case.resolved_at = now
    elif target == Status.CLOSED:
        case.closed_at = now
    elif old in (Status.RESOLVED, Status.CLOSED):
        case.resolved_at = None
    _touch(case, by, now, ["status", "client_status", "resolved_at", "closed_at"])
    return _event(case, CaseEvent.Kind.STATUS, actor=by, now=now,
                  data={"from": old, "to": target, "custom": custom.code if custom else "",
                        "why": why})


@transaction.atomic
def change_status(case: Case, status: str, *, by: User, expected_version: int | None = None,
                  request: HttpRequest | None = None) -> Case:
    _require_worker(by, case.client_id)
    case = _lock(case, expected_version)
    target, custom = _resolve_status(case, status)
    now = timezone.now()
    event = _apply_status(case, target, custom, by=by, now=now)
    _sla(case, now)
    audit.record("cases.status_changed", actor=by, obj=case, client=case.client, request=request,
                 data=event.data)
    return case


@transaction.atomic
def add_note(case: Case, body: str, *, by: User, request: HttpRequest | None = None) -> CaseEvent:
    """An internal note: never sent to, nor shown to, the customer. Notes do not conflict
    with other edits, so they need no version."""
    _require_worker(by, case.client_id)
    case = _lock(case, None)
    now = timezone.now()
    event = _event(case, CaseEvent.Kind.NOTE, actor=by, body=_body(body), now=now)
    _touch(case, by, now)
    return event


@transaction.atomic
def reply(case: Case, body: str, *, by: User, expected_version: int | None = None,
          channel: str | None = None, request: HttpRequest | None = None) -> CaseEvent:
    """A reply to the customer. A new case becomes open; a closed case takes no replies."""
    _require_worker(by, case.client_id)
    case = _lock(case, expected_version)
    if case.status == Status.CLOSED:
        raise ValidationError(_("This case is closed; open a new case to write to the "
                                "customer again."), code="closed")
    now = timezone.now()
    event = _event(case, CaseEvent.Kind.OUTBOUND, actor=by, body=_body(body), now=now,
                   channel=channel or case.channel)
    if case.status == Status.NEW:
        _apply_status(case, Status.OPEN, None, by=by, now=now, why="reply")
    else:
        _touch(case, by, now)
    _sla(case, now)
    audit.record("cases.replied", actor=by, obj=case, client=case.client, request=request,
                 data={"event": event.pk})
    signals.agent_replied.send(sender=Case, case=case, event=event, channel=event.channel)
    return event


@transaction.atomic
def receive_customer_message(case: Case, body: str, *, channel: str | None = None,
                             now: datetime | None = None,
                             request: HttpRequest | None = None,
                             data: dict[str, Any] | None = None) -> Case:
    """A customer's message on an existing case. Within the client's reopen window a
    resolved case reopens; after it, or on a closed case, a linked follow-up case opens.
    Returns the case that got the message; its newest inbound event is the message."""
    case = _lock(case, None)
    now = now or timezone.now()
    channel = channel or case.channel
    if case.status == Status.RESOLVED:
        settings_row = ClientCaseSettings.objects.filter(client_id=case.client_id).first()
        window = timedelta(days=settings_row.reopen_window_days if settings_row else 7)
        if case.resolved_at is not None and now - case.resolved_at <= window:
            _apply_status(case, Status.OPEN, None, by=None, now=now, why="customer_reply")
            event = _event(case, CaseEvent.Kind.INBOUND, actor=None, body=_body(body),
                           channel=channel, now=now, data=data)
            _sla(case, now)
            live.publish_case(case, "customer_message")
            signals.customer_wrote.send(sender=Case, case=case, event=event, channel=channel)
            return case
    if case.status in (Status.RESOLVED, Status.CLOSED):
        follow_up = create_case(case.client, case.customer, case.subject, by=None, body=body,
                                channel=channel, priority=case.priority, reason=case.reason,
                                team=case.team, request=request, now=now, data=data)
        CaseLink.objects.create(from_case=follow_up, to_case=case, kind=CaseLink.Kind.RELATED)
        return follow_up
    event = _event(case, CaseEvent.Kind.INBOUND, actor=None, body=_body(body), channel=channel,
                   now=now, data=data)
    if case.status == Status.PENDING_CUSTOMER:
        _apply_status(case, Status.OPEN, None, by=None, now=now, why="customer_reply")
    else:
        _touch(case, None, now)
    _sla(case, now)
    live.publish_case(case, "customer_message")
    signals.customer_wrote.send(sender=Case, case=case, event=event, channel=channel)
    return case


_UNSET: Any = object()


@transaction.atomic
def update_case(case: Case, *, by: User, expected_version: int | None = None,
                priority: str = _UNSET, reason: ContactReason | None = _UNSET,
                team: Team | None = _UNSET, assignee: User | None = _UNSET,
                tags: Iterable[str] = _UNSET, request: HttpRequest | None = None) -> Case:
    """Change priority, contact reason, team, assignee or tags; only the given ones."""
    _require_worker(by, case.client_id)
    case = _lock(case, expected_version)
    changes: dict[str, Any] = {}
    fields: list[str] = []
    if priority is not _UNSET and priority != case.priority:
        if priority not in Priority.values:
            raise ValidationError(_("Unknown priority: %(priority)s") % {"priority": priority})
        changes["priority"] = [case.priority, priority]
        case.priority = priority
        fields.append("priority")
    if reason is not _UNSET and reason != case.reason:
        _check_refs(case.client_id, reason=reason)
        changes["reason"] = [case.reason_id, reason.pk if reason else None]
        case.reason = reason
        fields.append("reason")
    assignment: dict[str, Any] = {}
    if team is not _UNSET and team != case.team:
        _check_refs(case.client_id, team=team)
        assignment["team"] = [case.team_id, team.pk if team else None]
        case.team = team
        fields.append("team")
    if assignee is not _UNSET and assignee != case.assignee:
        _check_refs(case.client_id, assignee=assignee)
        assignment["assignee"] = [case.assignee_id, assignee.pk if assignee else None]
        case.assignee = assignee
        fields.append("assignee")
    if tags is not _UNSET:
        names = sorted({t.strip()[:50] for t in tags if t and t.strip()})
        old = sorted(case.tags.values_list("name", flat=True))
        if names != old:
            rows = [Tag.objects.get_or_create(client_id=case.client_id, name=n)[0]
                    for n in names]
            case.tags.set(rows)
            changes["tags"] = [old, names]
    if not changes and not assignment:
        return case
    now = timezone.now()
    _touch(case, by, now, fields)
    if changes:
        _event(case, CaseEvent.Kind.UPDATE, actor=by, now=now, data=changes)
    if assignment:
        _event(case, CaseEvent.Kind.ASSIGNMENT, actor=by, now=now, data=assignment)
    audit.record("cases.updated", actor=by, obj=case, client=case.client, request=request,
                 data={**changes, **assignment})
    if "priority" in changes:
        _sla(case, now)
    # Tell the new assignee (or, for an unassigned case, the new team) once this commits.
    if (case.assignee_id if "assignee" in assignment
            else "team" in assignment and not case.assignee_id and case.team_id):
        live.publish_case(case, "assigned")
    return case


@transaction.atomic
def link(case: Case, other: Case, *, kind: str = CaseLink.Kind.RELATED, by: User,
         request: HttpRequest | None = None) -> CaseLink:
    """Relate two cases of one client, or make ``case`` the parent of ``other``."""
    _require_worker(by, case.client_id)
    require_client(by, other.client_id)
    if case.pk == other.pk or case.client_id != other.client_id:
        raise ValidationError(_("Only two different cases of the same client can be linked."))
    if kind not in CaseLink.Kind.values:
        raise ValidationError(_("Unknown link kind."))
    row, _created = CaseLink.objects.get_or_create(from_case=case, to_case=other,
                                                   defaults={"kind": kind})
    audit.record("cases.linked", actor=by, obj=case, client=case.client, request=request,
                 data={"to": other.reference, "kind": kind})
    return row


_PLACEHOLDER = re.compile(r"\{(customer_name|case_reference)\}")


def render_canned(canned: CannedResponse, case: Case, language: str = "id") -> str:
    """Fill the known placeholders only. No ``str.format``: a template cannot reach
    attributes, and unknown braces stay as written. The result is plain text (escaped when
    shown)."""
    template = canned.body_en if language == "en" and canned.body_en else canned.body_id
    values = {"customer_name": resolve(case.customer).name, "case_reference": case.reference}
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)


# --- attachments -------------------------------------------------------------------------

# What the bytes must look like, by type. Office formats are recognised by their container
# (OLE2 or OOXML zip) plus the extension; text must be UTF-8 without markup.
OFFICE_TYPES = {
    ".doc": "application/msword", ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
DEFAULT_ALLOWED_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf",
    "text/plain", "text/csv", *OFFICE_TYPES.values(),
})
REFUSED_EXTENSIONS = frozenset({
    ".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".js", ".mjs", ".xml", ".exe",
    ".dll", ".com", ".bat", ".cmd", ".sh", ".ps1", ".msi", ".scr", ".jar", ".apk", ".php",
    ".vbs", ".hta",
})
_MARKUP = re.compile(rb"<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|"
                     rb"meta|a\s|img\s|div|style|link)", re.IGNORECASE)
_SNIFF_BYTES = 8192


def allowed_types() -> frozenset[str]:
    configured = getattr(settings, "ATTACHMENT_ALLOWED_TYPES", None)
    return frozenset(configured) & DEFAULT_ALLOWED_TYPES if configured else DEFAULT_ALLOWED_TYPES


def detect_type(head: bytes, name: str, upload: Any = None) -> str | None:
    """The content type the bytes prove, or None for anything not on the allow list
    (executables, HTML, SVG, scripts, unknown binaries)."""
    ext = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    if ext in REFUSED_EXTENSIONS:
        return None
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OFFICE_TYPES.get(ext) if ext in (".doc", ".xls", ".ppt") else None
    if head.startswith(b"PK\x03\x04"):
        if ext not in OFFICE_TYPES or ext in (".doc", ".xls", ".ppt") or upload is None:
            return None
        try:
            upload.seek(0)
            names = set(zipfile.ZipFile(upload).namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            upload.seek(0)
        if "[Content_Types].xml" in names or "mimetype" in names:
            return OFFICE_TYPES[ext]
        return None
    if head.startswith((b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")):
        return None
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a character cut at the sniff boundary is fine
            return None
    if _MARKUP.search(head):
        return None
    if ext == ".csv" or mimetypes.guess_type(name)[0] == "text/csv":
        return "text/csv"
    return "text/plain"


def _safe_name(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>').strip()
    return name[:255] or "file"


def validate_upload(upload: Any) -> tuple[str, bytes]:
    """Check an uploaded file: not empty, not too large, an allowed type. Returns the
    detected content type and the first bytes."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload is None or not upload.size:
        raise ValidationError(_("The file is empty."), code="empty")
    if upload.size > limit:
        raise ValidationError(_("The file is too large (at most %(mb)s MB).")
                              % {"mb": f"{limit / (1024 * 1024):g}"}, code="too_large")
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES)
    upload.seek(0)
    kind = detect_type(head, upload.name or "", upload)
    if kind is None or kind not in allowed_types():
        raise ValidationError(_("This type of file is not allowed; attach images, PDF, text, "
                                "CSV or office documents."), code="forbidden_type")
    return kind, head


@transaction.atomic
def add_attachment(case: Case, upload: Any, *, by: User, note: str = "",
                   event: CaseEvent | None = None,
                   request: HttpRequest | None = None) -> Attachment:
    """Store a file on a case, under a random key through the storage API; with ``note``,
    an internal note carries it on the timeline."""
    _require_worker(by, case.client_id)
    content_type, _head = validate_upload(upload)
    if event is not None and event.case_id != case.pk:
        raise ValidationError(_("That timeline entry belongs to another case."))
    case = _lock(case, None)
    if case.status == Status.CLOSED:
        raise ValidationError(_("This case is closed; files can no longer be attached."),
                              code="closed")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    now = timezone.now()
    if note.strip():
        event = _event(case, CaseEvent.Kind.NOTE, actor=by, body=_body(note), now=now)
    key = default_storage.save(f"attachments/{now:%Y/%m}/{secrets.token_hex(20)}",
                               File(upload))
    try:
        attachment = Attachment.objects.create(
            case=case, event=event, original_name=_safe_name(upload.name or ""),
            content_type=content_type, size=upload.size, sha256=digest.hexdigest(),
            storage_key=key, uploaded_by=by)
        _touch(case, by, now)
        audit.record("cases.attachment_added", actor=by, obj=case, client=case.client,
                     request=request, data={"attachment": attachment.pk,
                                            "size": attachment.size, "type": content_type,
                                            "sha256": attachment.sha256})
    except BaseException:
        default_storage.delete(key)  # no file without its row
        raise
    return attachment


def attach_inbound_file(case: Case, name: str, content: bytes, *,
                        event: CaseEvent | None = None) -> Attachment | None:
    """Keep a file a customer sent (an e-mail attachment, a WhatsApp image, a chat upload)
    on the case. Called by the channels inside their processing transaction; no user is
    involved. A file of a type agents may not open, or too large, is not stored as an
    attachment (the raw inbound message still holds it) and None is returned."""
    from django.core.files.base import ContentFile

    if not content or len(content) > settings.ATTACHMENT_MAX_BYTES:
        return None
    kind = detect_type(content[:_SNIFF_BYTES], name or "", io.BytesIO(content))
    if kind is None or kind not in allowed_types():
        return None
    now = timezone.now()
    key = default_storage.save(f"attachments/{now:%Y/%m}/{secrets.token_hex(20)}",
                               ContentFile(content))
    try:
        return Attachment.objects.create(
            case=case, event=event, original_name=_safe_name(name or ""), content_type=kind,
            size=len(content), sha256=hashlib.sha256(content).hexdigest(), storage_key=key,
            uploaded_by=None)
    except BaseException:
        default_storage.delete(key)
        raise


# --- saved views ---------------------------------------------------------------------------

SAVED_FILTER_KEYS = ("status", "priority", "assignee", "sort", "q")


@transaction.atomic
def save_view(user: User, list_name: str, name: str, filters: dict[str, str], *,
              request: HttpRequest | None = None) -> SavedView:
    """Save (or overwrite) one of the user's named filter sets of a case list."""
    require_perm(user, Perm.VIEW_CLIENTS)
    if list_name not in SavedView.ListName.values:
        raise ValidationError(_("Unknown list."), code="unknown_list")
    name = (name or "").strip()[:80]
    if not name:
        raise ValidationError(_("Give the view a name."), code="name_required")
    clean = {k: str(filters.get(k, "")).strip()[:100] for k in SAVED_FILTER_KEYS
             if str(filters.get(k, "")).strip()}
    view, _created = SavedView.objects.update_or_create(
        user=user, list_name=list_name, name=name, defaults={"filters": clean})
    audit.record("cases.view_saved", actor=user, obj=view, request=request,
                 data={"list": list_name, "name": name})
    return view


@transaction.atomic
def delete_view(view: SavedView, *, by: User, request: HttpRequest | None = None) -> None:
    if view.user_id != by.pk:
        raise ValidationError(_("That view is not yours."))
    audit.record("cases.view_deleted", actor=by, obj=view, request=request,
                 data={"name": view.name})
    view.delete()
