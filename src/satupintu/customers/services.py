"""Customer writes: create, add an identity, merge two records, reveal a masked field.

Every write checks the actor's role and client scope, runs in one transaction and leaves an
audit entry. Audit data never holds personal data in clear: only kinds and masked values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _

from satupintu.accounts.models import Client
from satupintu.accounts.permissions import client_ids, require_perm
from satupintu.accounts.roles import Perm
from satupintu.audit import services as audit
from satupintu.customers.crypto import blind_index
from satupintu.customers.identity import IdentityKind, normalise, normalise_nik
from satupintu.customers.masking import mask_identity, mask_nik
from satupintu.customers.models import Customer, CustomerIdentity

if TYPE_CHECKING:
    from satupintu.accounts.models import User

NIK_INDEX_KIND = "nik"
REVEALABLE = ("nik", "address")


def require_client(user: User, client_id: int) -> None:
    """Another client's customer is reported as missing, never as forbidden."""
    if client_id not in client_ids(user):
        raise Http404(_("Not found."))


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("Give the customer a name."), code="name_required")
    if len(name) > 200:
        raise ValidationError(_("A name is at most 200 characters."), code="name_too_long")
    return name


def resolve(customer: Customer) -> Customer:
    """Follow ``merged_into`` to the record that lives on."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = customer.merged_into  # type: ignore[assignment]
    return customer


def find_by_identity(client: Client, kind: str, raw_value: str) -> Customer | None:
    """The customer who owns this e-mail / phone / chat id at this client, or None."""
    try:
        value = normalise(kind, raw_value)
    except ValidationError:
        return None
    identity = (CustomerIdentity.objects.select_related("customer")
                .filter(client=client, kind=kind, blind_index=blind_index(kind, value)).first())
    return resolve(identity.customer) if identity else None


def find_by_nik(client: Client, raw_nik: str) -> Customer | None:
    try:
        nik = normalise_nik(raw_nik)
    except ValidationError:
        return None
    found = Customer.objects.filter(client=client, nik_index=blind_index(NIK_INDEX_KIND, nik),
                                    merged_into__isnull=True).first()
    return found


def _owned_error(kind: str) -> ValidationError:
    return ValidationError(
        _("This identity (%(kind)s) already belongs to another customer; open that customer "
          "or merge the two.") % {"kind": IdentityKind(kind).label}, code="identity_taken")


def _attach(customer: Customer, kind: str, raw_value: str) -> CustomerIdentity:
    if kind not in IdentityKind.values:
        raise ValidationError(_("Unknown identity kind: %(kind)s") % {"kind": kind},
                              code="invalid_kind")
    value = normalise(kind, raw_value)
    index = blind_index(kind, value)
    existing = CustomerIdentity.objects.filter(client_id=customer.client_id, kind=kind,
                                               blind_index=index).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise _owned_error(kind)
    try:
        with transaction.atomic():
            return CustomerIdentity.objects.create(customer=customer, client_id=customer.client_id,
                                                   kind=kind, value=value, blind_index=index)
    except IntegrityError as exc:  # a concurrent writer took it between the check and insert
        raise _owned_error(kind) from exc


@transaction.atomic
def create_customer(
    client: Client,
    name: str,
    *,
    by: User,
    kind: str = Customer.Kind.PERSON,
    organisation: Customer | None = None,
    nik: str = "",
    address: str = "",
    language: str = "id",
    identities: Iterable[tuple[str, str]] = (),
    request: HttpRequest | None = None,
) -> Customer:
    require_perm(by, Perm.VIEW_OWN_WORK)
    require_client(by, client.pk)
    if kind not in Customer.Kind.values:
        raise ValidationError(_("Unknown customer kind: %(kind)s") % {"kind": kind})
    if language not in {"id", "en"}:
        raise ValidationError(_("Unknown language."))
    if organisation is not None and (organisation.client_id != client.pk
                                     or organisation.kind != Customer.Kind.ORGANISATION):
        raise ValidationError(_("The organisation must be an organisation of the same client."))
    customer = Customer(client=client, kind=kind, name=_clean_name(name),
                        organisation=organisation, address=(address or "").strip()[:500],
                        language=language, created_by=by)
    if nik:
        customer.nik = normalise_nik(nik)
        customer.nik_index = blind_index(NIK_INDEX_KIND, customer.nik)
    customer.save()
    kinds = []
    for identity_kind, value in identities:
        _attach(customer, identity_kind, value)
        kinds.append(identity_kind)
    audit.record("customers.created", actor=by, obj=customer, client=client, request=request,
                 data={"kind": kind, "identities": kinds})
    return customer


@transaction.atomic
def find_or_create_contact(client: Client, kind: str, raw_value: str, *, name: str = "",
                           language: str = "id") -> Customer:
    """The customer behind an inbound contact (an e-mail address, a WhatsApp number, a chat
    visitor), created on first contact by the system. A value that cannot be normalised
    raises ValidationError; the channel then quarantines the message."""
    found = find_by_identity(client, kind, raw_value)
    if found is not None:
        return found
    value = normalise(kind, raw_value)
    clean = " ".join((name or "").split())[:200] or value
    try:
        with transaction.atomic():  # losing the race below undoes only this customer
            customer = Customer.objects.create(
                client=client, name=clean,
                language=language if language in {"id", "en"} else "id")
            _attach(customer, kind, value)
    except ValidationError as exc:
        # A concurrent first contact with the same identity committed first (two messages
        # of a new customer processed at once): the customer is theirs.
        if exc.code != "identity_taken":
            raise
        found = find_by_identity(client, kind, raw_value)
        if found is None:
            raise
        return found
    audit.record("customers.created", actor=None, obj=customer, client=client,
                 data={"kind": customer.kind, "identities": [kind], "source": "inbound"})
    return customer


@transaction.atomic
def add_identity(customer: Customer, kind: str, raw_value: str, *, by: User,
                 request: HttpRequest | None = None) -> CustomerIdentity:
    """Attach an e-mail / phone / chat id; refused when another customer owns it."""
    require_perm(by, Perm.VIEW_OWN_WORK)
    require_client(by, customer.client_id)
    if customer.is_merged:
        raise ValidationError(_("This customer was merged into another; add it there."),
                              code="merged")
    identity = _attach(customer, kind, raw_value)
    audit.record("customers.identity_added", actor=by, obj=customer, client=customer.client,
                 request=request, data={"kind": kind, "value": mask_identity(kind, identity.value)})
    return identity


@transaction.atomic
def merge(source: Customer, target: Customer, *, by: User,
          request: HttpRequest | None = None) -> Customer:
    """Fold ``source`` into ``target``: identities, cases and people move; source stays as a
    pointer (``merged_into``) so old links and references still lead somewhere."""
    from satupintu.cases.models import Case

    require_perm(by, Perm.SUPERVISE)
    require_client(by, source.client_id)
    require_client(by, target.client_id)
    source = Customer.objects.select_for_update().get(pk=source.pk)
    target = Customer.objects.select_for_update().get(pk=target.pk)
    if source.pk == target.pk:
        raise ValidationError(_("A customer cannot be merged into itself."), code="same")
    if source.client_id != target.client_id:
        raise ValidationError(_("Only customers of the same client can be merged."),
                              code="other_client")
    if source.is_merged or target.is_merged:
        raise ValidationError(_("One of these customers was already merged."), code="merged")
    moved_identities = CustomerIdentity.objects.filter(customer=source).update(customer=target)
    moved_cases = Case.objects.filter(customer=source).update(customer=target)
    Customer.objects.filter(organisation=source).update(organisation=target)
    if not target.nik and source.nik:
        target.nik, target.nik_index = source.nik, source.nik_index
    if not target.address and source.address:
        target.address = source.address
    target.save()
    source.merged_into = target
    source.nik_index = ""
    source.save(update_fields=["merged_into", "nik_index", "updated_at"])
    audit.record("customers.merged", actor=by, obj=target, client=target.client, request=request,
                 data={"from": source.pk, "identities": moved_identities, "cases": moved_cases})
    return target


@transaction.atomic
def reveal(customer: Customer, field: str, *, by: User,
           request: HttpRequest | None = None) -> str:
    """The unmasked value of a protected field, for someone whose work needs it; audited."""
    if field not in REVEALABLE:
        raise ValidationError(_("This field cannot be revealed."))
    require_client(by, customer.client_id)
    if Perm.VIEW_OWN_WORK not in by.permissions:
        raise PermissionDenied(_("Your role does not allow this."))
    audit.record("customers.revealed", actor=by, obj=customer, client=customer.client,
                 request=request, data={"field": field})
    return str(getattr(customer, field))


def display_nik(customer: Customer) -> str:
    return mask_nik(customer.nik)


def rotate_field_keys(batch: int = 1000) -> dict[str, int]:
    """Re-encrypt every encrypted column under the newest key, table by table in batches,
    reading and writing the stored tokens directly (no decryption to Python strings)."""
    from django.apps import apps
    from django.db import connection

    from satupintu.customers.crypto import EncryptedTextField, rotate

    counts: dict[str, int] = {}
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if not fields:
            continue
        table = connection.ops.quote_name(model._meta.db_table)
        columns = [connection.ops.quote_name(f.column) for f in fields]
        pk = connection.ops.quote_name(model._meta.pk.column)  # type: ignore[union-attr]
        last, done = 0, 0
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk}, {', '.join(columns)} FROM {table} "  # noqa: S608
                               f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [last, batch])
                rows = cursor.fetchall()
                for row in rows:
                    values = [rotate(v) if v else v for v in row[1:]]
                    assignments = ", ".join(f"{c} = %s" for c in columns)
                    cursor.execute(f"UPDATE {table} SET {assignments} "  # noqa: S608
                                   f"WHERE {pk} = %s", [*values, row[0]])
            if not rows:
                break
            last, done = rows[-1][0], done + len(rows)
        counts[model._meta.label] = done
    return counts
