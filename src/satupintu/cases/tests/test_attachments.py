"""Attachments, saved views and keyboard shortcuts.

Files are stored through the storage API under random keys (never in the database, never
under the user's name), checked by their bytes against the allow list, limited in size, and
always downloaded as attachments (never rendered inline), within the user's client scope.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from satupintu.cases import services
from satupintu.cases.models import Attachment, CaseEvent, SavedView
from satupintu.customers import services as customers

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "media")}}}
    settings.ATTACHMENT_MAX_BYTES = 64 * 1024
    return tmp_path / "media"


@pytest.fixture
def cases(org):
    dewi = customers.create_customer(org.alpha, "Dewi Lestari", by=org.alice)
    budi = customers.create_customer(org.bravo, "Budi Santoso", by=org.bob)
    a_case = services.create_case(org.alpha, dewi, "Kartu terblokir", by=org.alice)
    b_case = services.create_case(org.bravo, budi, "Internet mati", by=org.bob)
    return a_case, b_case


def upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/html")  # the claim is ignored


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def test_attachment_stored_outside_database_under_random_key(org, cases, media):
    a_case, _b = cases
    att = services.add_attachment(a_case, upload("../../etc/scan kartu.png", PNG), by=org.alice)
    assert att.content_type == "image/png" and att.size == len(PNG)
    assert att.original_name == "scan kartu.png"
    assert "scan" not in att.storage_key and att.storage_key.startswith("attachments/")
    assert default_storage.open(att.storage_key).read() == PNG
    assert (media / att.storage_key).exists()
    import hashlib
    assert att.sha256 == hashlib.sha256(PNG).hexdigest()
    # no column holds the bytes
    assert not any(f.get_internal_type() in ("BinaryField", "FileField")
                   for f in Attachment._meta.get_fields() if hasattr(f, "get_internal_type"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM cases_attachment")
        row = cursor.fetchone()
    assert not any(isinstance(v, (bytes, memoryview)) or (isinstance(v, str) and "PNG" in v)
                   for v in row)


@pytest.mark.parametrize("name,data,kind", [
    ("a.pdf", PDF, "application/pdf"),
    ("a.txt", b"Halo, kartu saya terblokir.\n", "text/plain"),
    ("a.csv", b"nama,nomor\nDewi,1\n", "text/csv"),
    ("a.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "image/jpeg"),
])
def test_allowed_types_detected_from_bytes(org, cases, name, data, kind):
    att = services.add_attachment(cases[0], upload(name, data), by=org.alice)
    assert att.content_type == kind


@pytest.mark.parametrize("name,data", [
    ("page.html", b"<html><script>alert(1)</script></html>"),
    ("page.txt", b"<!DOCTYPE html><html><body>hi</body></html>"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'></svg>"),
    ("pic.png", b"<svg onload=alert(1)>"),
    ("app.js", b"alert(1)"),
    ("setup.pdf", b"MZ\x90\x00\x03" + b"\x00" * 40),
    ("tool", b"\x7fELF\x02\x01\x01" + b"\x00" * 40),
    ("a.docx", b"PK\x03\x04garbage"),
    ("blob.bin", b"\x00\x01\x02\x03"),
])
def test_forbidden_types_refused(org, cases, name, data):
    with pytest.raises(services.ValidationError) as exc:
        services.add_attachment(cases[0], upload(name, data), by=org.alice)
    assert exc.value.code == "forbidden_type"
    assert not Attachment.objects.exists()


def test_empty_too_large_and_closed_refused(org, cases, settings, media):
    a_case, _b = cases
    with pytest.raises(services.ValidationError) as exc:
        services.add_attachment(a_case, upload("a.txt", b""), by=org.alice)
    assert exc.value.code == "empty"
    with pytest.raises(services.ValidationError) as exc:
        services.add_attachment(a_case, upload("a.txt", b"x" * (64 * 1024 + 1)), by=org.alice)
    assert exc.value.code == "too_large"
    services.change_status(a_case, "closed", by=org.alice)
    with pytest.raises(services.ValidationError) as exc:
        services.add_attachment(a_case, upload("a.txt", b"hello"), by=org.alice)
    assert exc.value.code == "closed"
    assert not Attachment.objects.exists()
    assert not (media / "attachments").exists() or not any((media / "attachments").rglob("*.*"))


def test_other_clients_agent_cannot_attach(org, cases):
    from django.http import Http404

    with pytest.raises(Http404):
        services.add_attachment(cases[1], upload("a.txt", b"hi"), by=org.alice)
    assert not Attachment.objects.exists()


def test_web_upload_with_note_and_download_headers(client, org, login, cases):
    a_case, _b = cases
    login(client, org.alice)
    page = client.get(f"/cases/{a_case.reference}/").content.decode()
    assert 'enctype="multipart/form-data"' in page
    response = client.post(f"/cases/{a_case.reference}/attachments/",
                           {"file": upload("bukti.pdf", PDF), "body": "Bukti transfer"})
    assert response.status_code == 302
    att = Attachment.objects.get()
    assert att.event is not None and att.event.kind == CaseEvent.Kind.NOTE
    assert att.event.body == "Bukti transfer"
    page = client.get(f"/cases/{a_case.reference}/").content.decode()
    assert "bukti.pdf" in page and f"/cases/attachments/{att.pk}/" in page
    response = client.get(f"/cases/attachments/{att.pk}/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert 'filename="bukti.pdf"' in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_html_upload_cannot_be_rendered_inline(client, org, login, cases):
    a_case, _b = cases
    login(client, org.alice)
    html = b"<html><body><script>document.cookie</script></body></html>"
    response = client.post(f"/cases/{a_case.reference}/attachments/",
                           {"file": upload("x.html", html)}, follow=True)
    assert "not allowed" in response.content.decode()
    assert not Attachment.objects.exists()
    # Even a row forced in past the checks is only ever a download with a safe type.
    key = default_storage.save("attachments/forced", io.BytesIO(html))
    forced = Attachment.objects.create(case=a_case, original_name="x.html",
                                       content_type="", size=len(html), sha256="0" * 64,
                                       storage_key=key, uploaded_by=org.alice)
    response = client.get(f"/cases/attachments/{forced.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_web_errors_are_clear(client, org, login, cases, settings):
    a_case, _b = cases
    login(client, org.alice)
    url = f"/cases/{a_case.reference}/attachments/"
    empty = client.post(url, {"file": upload("a.txt", b"")}, follow=True)
    assert "The file is empty." in empty.content.decode()
    big = client.post(url, {"file": upload("a.txt", b"x" * (64 * 1024 + 10))})
    assert big.status_code == 413 and "too large" in big.content.decode()
    # a body beyond the attachment limit is refused up front by the middleware
    huge = client.post(url, {"file": upload("a.txt", b"x" * (200 * 1024))})
    assert huge.status_code == 413
    # ... but the larger limit holds on the upload paths only
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    note = client.post(f"/cases/{a_case.reference}/note/", {"body": "x" * 5000})
    assert note.status_code == 413
    fine = client.post(url, {"file": upload("a.txt", b"y" * 5000)})
    assert fine.status_code == 302 and Attachment.objects.count() == 1


def test_scope_other_client_is_404_and_viewers_do_not_see_note_files(client, org, login,
                                                                     cases):
    a_case, b_case = cases
    mine = services.add_attachment(a_case, upload("a.txt", b"public"), by=org.alice)
    noted = services.add_attachment(a_case, upload("b.txt", b"internal"), by=org.alice,
                                    note="internal")
    theirs = services.add_attachment(b_case, upload("c.txt", b"bravo"), by=org.bob)
    login(client, org.alice)
    assert client.get(f"/cases/attachments/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/attachments/{theirs.pk}").status_code == 404
    assert client.post(f"/cases/{b_case.reference}/attachments/",
                       {"file": upload("d.txt", b"x")}).status_code == 404
    login(client, org.charlie)  # viewer of alpha
    assert client.get(f"/cases/attachments/{mine.pk}/").status_code == 200
    assert client.get(f"/cases/attachments/{noted.pk}/").status_code == 404
    names = [a["file_name"] for a in
             client.get(f"/api/v1/cases/{a_case.reference}/attachments").json()]
    assert names == ["a.txt"]
    assert client.post(f"/cases/{a_case.reference}/attachments/",
                       {"file": upload("e.txt", b"x")}).status_code == 403
    login(client, org.dave)
    assert client.get(f"/cases/attachments/{mine.pk}/").status_code == 404


def test_api_upload_list_and_errors(client, org, login, cases):
    a_case, b_case = cases
    login(client, org.alice)
    url = f"/api/v1/cases/{a_case.reference}/attachments"
    created = client.post(url, {"file": upload("data.csv", b"a,b\n1,2\n"), "body": "CSV"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["content_type"] == "text/csv" and body["file_name"] == "data.csv"
    assert body["event_id"] is not None
    listed = client.get(url).json()
    assert [a["id"] for a in listed] == [body["id"]]
    download = client.get(body["download_url"])
    assert download["Content-Disposition"].startswith("attachment;")
    big = client.post(url, {"file": upload("a.txt", b"x" * (64 * 1024 + 10))})
    assert big.status_code == 413 and big.json()["code"] == "file_too_large"
    bad = client.post(url, {"file": upload("a.svg", b"<svg/>")})
    assert bad.status_code == 400 and "not allowed" in bad.json()["message"]
    empty = client.post(url, {"file": upload("a.txt", b"")})
    assert empty.status_code in (400, 422)
    assert client.post(f"/api/v1/cases/{b_case.reference}/attachments",
                       {"file": upload("a.txt", b"x")}).status_code == 404
    assert client.get(f"/api/v1/cases/{b_case.reference}/attachments").status_code == 404
    services.change_status(a_case, "closed", by=org.alice)
    closed = client.post(url, {"file": upload("a.txt", b"hello")})
    assert closed.status_code == 400 and "closed" in closed.json()["message"]


def test_indonesian_error_messages(client, org, login, cases):
    a_case, _b = cases
    org.alice.language = "id"
    org.alice.save()
    login(client, org.alice)
    response = client.post(f"/api/v1/cases/{a_case.reference}/attachments",
                           {"file": upload("a.exe", b"MZ\x90\x00")},
                           HTTP_ACCEPT_LANGUAGE="id")
    assert response.status_code == 400
    assert response.json()["message"]


# --- saved views -----------------------------------------------------------------------

def test_saved_views_per_user(client, org, login, cases):
    a_case, _b = cases
    services.update_case(a_case, by=org.alice, priority="urgent")
    login(client, org.alice)
    response = client.post("/cases/saved-views/", {
        "list": "mine", "name": "Hot list", "status": "active", "priority": "urgent",
        "assignee": "", "sort": "deadline", "q": "", "evil": "x"})
    assert response.status_code == 302
    view = SavedView.objects.get()
    assert view.user == org.alice and view.list_name == "mine"
    assert view.filters == {"status": "active", "priority": "urgent", "sort": "deadline"}
    assert response["Location"].endswith(f"?view={view.pk}")
    page = client.get(f"/cases/mine/?view={view.pk}").content.decode()
    assert "Hot list" in page and 'value="urgent" selected' in page
    assert 'value="deadline" selected' in page
    # same name overwrites; empty name refused
    client.post("/cases/saved-views/", {"list": "mine", "name": "Hot list", "priority": "high"})
    assert SavedView.objects.get().filters == {"priority": "high"}
    client.post("/cases/saved-views/", {"list": "mine", "name": "  "})
    assert SavedView.objects.count() == 1
    queue = client.get("/cases/").content.decode()
    assert f"?view={view.pk}" not in queue  # per list
    # another user neither sees nor opens nor deletes it
    login(client, org.sam)
    assert "Hot list" not in client.get("/cases/mine/").content.decode()
    assert client.get(f"/cases/mine/?view={view.pk}").status_code == 404
    assert client.post(f"/cases/saved-views/{view.pk}/delete/").status_code == 404
    login(client, org.alice)
    assert client.post(f"/cases/saved-views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


# --- keyboard shortcuts ----------------------------------------------------------------

def test_case_page_has_shortcuts_script_and_help(client, org, login, cases):
    a_case, _b = cases
    login(client, org.alice)
    page = client.get(f"/cases/{a_case.reference}/").content.decode()
    assert "cases/shortcuts.js" in page
    for text in ("Keyboard shortcuts", "Focus the internal note",
                 "Focus the reply to the customer", "Focus the status control",
                 "Show or hide this help"):
        assert text in page
    assert 'id="note-body"' in page and 'id="reply-body"' in page and 'id="status"' in page
    from pathlib import Path

    from django.contrib.staticfiles import finders
    script = Path(finders.find("cases/shortcuts.js")).read_text(encoding="utf-8")
    assert "INPUT" in script and "TEXTAREA" in script and '"?"' in script
