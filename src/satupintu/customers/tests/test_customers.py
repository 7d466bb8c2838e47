"""Customers: identities, normalisation, encryption at rest, masking, merge."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import translation

from satupintu.audit.models import AuditEntry
from satupintu.customers import crypto, services
from satupintu.customers.identity import normalise_nik, normalise_phone
from satupintu.customers.masking import mask_card, mask_email, mask_nik, mask_phone
from satupintu.customers.models import Customer, CustomerIdentity

pytestmark = pytest.mark.django_db

NIK = "3171015708850003"  # Jakarta Pusat, a woman born 17-08-1985


@pytest.mark.parametrize("raw", ["081234567890", "6281234567890", "+62 812-3456-7890",
                                 "+6281234567890", "0812 3456 7890"])
def test_indonesian_phone_forms_become_one_e164(raw):
    assert normalise_phone(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["12", "0812", "not a phone", "", "+62 999"])
def test_invalid_phone_is_rejected(raw):
    with pytest.raises(ValidationError):
        normalise_phone(raw)


def test_nik_validation():
    assert normalise_nik("31.7101.570885.0003") == NIK
    for bad in ["317101570885000", "3171013208850003", "9971011708450001", "3171011708450000",
                "31710117084500ab"]:
        with pytest.raises(ValidationError):
            normalise_nik(bad)


def test_masks():
    assert mask_nik(NIK) == "••••••••••••0003"
    assert mask_card("4111 1111 1111 1111") == "411111••••••1111"
    assert mask_phone("+6281234567890") == "+62••••••••890"
    assert mask_email("dewi@example.co.id") == "d•••@example.co.id"


def test_one_identity_in_three_spellings_finds_one_customer(org):
    dewi = services.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                    identities=[("phone", "081234567890")])
    assert services.find_by_identity(org.alpha, "phone", "+62 812 3456 7890") == dewi
    assert services.find_by_identity(org.alpha, "phone", "6281234567890") == dewi
    assert services.find_by_identity(org.bravo, "phone", "081234567890") is None


def test_identity_owned_by_another_customer_is_refused(org):
    services.create_customer(org.alpha, "Dewi", by=org.alice,
                             identities=[("email", "dewi@example.co.id")])
    budi = services.create_customer(org.alpha, "Budi", by=org.alice)
    before = CustomerIdentity.objects.count()
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.add_identity(budi, "email", " Dewi@Example.co.id ", by=org.alice)
    assert "already belongs to another customer" in err.value.messages[0]
    assert CustomerIdentity.objects.count() == before


def test_invalid_phone_is_a_clear_error_and_writes_nothing(org):
    budi = services.create_customer(org.alpha, "Budi", by=org.alice)
    with translation.override("en"), pytest.raises(ValidationError) as err:
        services.add_identity(budi, "whatsapp", "0812", by=org.alice)
    assert "not a valid phone number" in err.value.messages[0]
    assert not budi.identities.exists()


def test_no_plaintext_personal_data_in_the_raw_tables(org):
    services.create_customer(org.alpha, "Siti Rahmawati", by=org.alice, nik=NIK,
                             address="Jl. Merdeka 17, Jakarta",
                             identities=[("phone", "081234567890"),
                                         ("email", "siti.rahma@example.co.id")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM customers_customer")
        customer_rows = cursor.fetchall()
        cursor.execute("SELECT * FROM customers_customeridentity")
        identity_rows = cursor.fetchall()
        cursor.execute("SELECT * FROM audit_auditentry")
        audit_rows = cursor.fetchall()
    raw = repr(customer_rows) + repr(identity_rows) + repr(audit_rows)
    for secret in ["Siti", "Rahmawati", NIK, "Merdeka", "81234567890", "siti.rahma",
                   "example.co.id"]:
        assert secret not in raw
    customer = Customer.objects.get()
    assert customer.name == "Siti Rahmawati" and customer.nik == NIK


def test_key_rotation_new_key_encrypts_old_key_still_decrypts(org):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        customer = services.create_customer(org.alpha, "Agus", by=org.alice)
        old_token = list(Customer.objects.filter(pk=customer.pk).values_list("name", flat=True))
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM customers_customer WHERE id = %s", [customer.pk])
            stored = cursor.fetchone()[0]
    assert old_token == ["Agus"] and stored != "Agus"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        assert Customer.objects.get(pk=customer.pk).name == "Agus"
        rotated = crypto.rotate(stored)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert crypto.decrypt(rotated) == "Agus"


def test_merge_moves_identities_and_cases_and_keeps_a_pointer(org):
    from satupintu.cases import services as cases

    a = services.create_customer(org.alpha, "Dewi L.", by=org.alice,
                                 identities=[("phone", "081234567890")])
    b = services.create_customer(org.alpha, "Dewi Lestari", by=org.alice,
                                 identities=[("email", "dewi@example.co.id")])
    case = cases.create_case(org.alpha, a, "Kartu terblokir", by=org.alice)
    services.merge(a, b, by=org.sam)
    a.refresh_from_db()
    case.refresh_from_db()
    assert a.merged_into == b and case.customer == b
    assert services.find_by_identity(org.alpha, "phone", "081234567890") == b
    assert b.identities.count() == 2
    assert AuditEntry.objects.filter(action="customers.merged").count() == 1
    with pytest.raises(ValidationError):
        services.merge(a, b, by=org.sam)


def test_agent_cannot_merge(org):
    from django.core.exceptions import PermissionDenied

    a = services.create_customer(org.alpha, "A", by=org.alice)
    b = services.create_customer(org.alpha, "B", by=org.alice)
    with pytest.raises(PermissionDenied):
        services.merge(a, b, by=org.alice)


def test_reveal_is_audited_and_viewers_cannot(org):
    from django.core.exceptions import PermissionDenied

    customer = services.create_customer(org.alpha, "Rina", by=org.alice, nik=NIK)
    assert services.reveal(customer, "nik", by=org.alice) == NIK
    entry = AuditEntry.objects.get(action="customers.revealed")
    assert entry.data == {"field": "nik"} and entry.actor_id == org.alice.pk
    with pytest.raises(PermissionDenied):
        services.reveal(customer, "nik", by=org.charlie)


def test_other_clients_agent_cannot_write(org):
    from django.http import Http404

    with pytest.raises(Http404):
        services.create_customer(org.alpha, "X", by=org.bob)


def test_rotate_field_keys_reencrypts_everything_under_the_newest_key(org):
    from cryptography.fernet import Fernet

    from satupintu.customers.checks import encryption_keys

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        customer = services.create_customer(org.alpha, "Agus", by=org.alice, nik=NIK,
                                            identities=[("phone", "081234567890")])
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        counts = services.rotate_field_keys(batch=1)
        assert counts["customers.Customer"] == 1 and counts["customers.CustomerIdentity"] == 1
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        fresh = Customer.objects.get(pk=customer.pk)
        assert (fresh.name, fresh.nik) == ("Agus", NIK)
        assert fresh.identities.get().value == "+6281234567890"
    with override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key"]):
        assert [e.id for e in encryption_keys()] == ["satupintu.E102"]
