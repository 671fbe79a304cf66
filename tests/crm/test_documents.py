"""Documents: folders, uploads checked by size, type and name, downloads, the
Attachments panel of every record page, and files inside the tenant database."""

from __future__ import annotations

import io
import re
import zipfile
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from sandbox import tenancy
from sandbox.extensions import db
from sandbox.models.crm import AuditLog
from sandbox.models.crm.documents import Document, DocumentBlob, Folder
from tests.conftest import close_app, make_app
from tests.helpers import starts_without, view_as_instructor

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def office_file(part: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<document/>")
    return buffer.getvalue()


def upload(client, name: str, data: bytes, **fields):
    return client.post(
        "/crm/documents/new",
        data={"file": (io.BytesIO(data), name), **fields},
        content_type="multipart/form-data",
    )


def stored(app, classroom, index: int = 0) -> list[tuple[str, int]]:
    return classroom.in_tenant(
        app,
        lambda s: [
            (d.name, d.size)
            for d in s.scalars(sa.select(Document).order_by(Document.id))
        ],
        index,
    )


def blob_count(app, classroom) -> int:
    return classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count()).select_from(DocumentBlob))
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


no_documents = starts_without("document_blob", "folder")


# ---------------------------------------------------------------- refusals


def test_the_limits_are_settings_of_10_mb_a_file_and_50_mb_a_tenant(
    app, tmp_path, monkeypatch
):
    assert app.config["DOCUMENT_MAX_FILE_BYTES"] == 10 * 1024 * 1024
    assert app.config["DOCUMENT_MAX_TENANT_BYTES"] == 50 * 1024 * 1024
    monkeypatch.setenv("SANDBOX_DOCUMENT_MAX_FILE_BYTES", "2097152")
    other = make_app(tmp_path / "other")
    try:
        assert other.config["DOCUMENT_MAX_FILE_BYTES"] == 2 * 1024 * 1024
    finally:
        close_app(other)


@pytest.fixture
def small_limit(app):
    """A 100 KB limit keeps the test's request bodies in memory."""
    app.config["DOCUMENT_MAX_FILE_BYTES"] = 100 * 1024


def test_an_oversized_file_is_refused_with_its_size_and_the_limit(
    app, client, auth, classroom, small_limit
):
    auth.login("alice")
    response = upload(client, "big.pdf", PDF + b"0" * (150 * 1024))
    assert response.status_code == 422
    # read up to the limit only: no size that reads as the limit itself
    assert "“big.pdf” is too large: a file may be at most 0.1 MB." in (
        page_text(response)
    )
    assert stored(app, classroom) == []
    assert upload(client, "fits.pdf", PDF + b"0" * (90 * 1024)).status_code == 302


def test_a_request_far_over_the_limit_is_refused_unread_with_a_clear_message(
    app, client, auth, classroom, small_limit
):
    auth.login("alice")
    response = upload(client, "huge.pdf", PDF + b"0" * (300 * 1024))
    assert response.headers["Location"] == "/crm/documents/new"
    page = page_text(client.get(response.headers["Location"]))
    assert "The file is too large (0.3 MB): a file may be at most 0.1 MB." in page
    attached = client.post(
        "/crm/documents/attach?module=accounts&record_id=1",
        data={"file": (io.BytesIO(PDF + b"0" * (300 * 1024)), "huge.pdf")},
        content_type="multipart/form-data",
    )
    assert attached.headers["Location"] == "/crm/accounts/1#attachments"
    assert stored(app, classroom) == []


def test_the_tenant_limit_refuses_a_file_that_would_not_fit(
    app, client, auth, classroom
):
    app.config["DOCUMENT_MAX_TENANT_BYTES"] = 1000
    auth.login("alice")
    assert upload(client, "first.pdf", PDF + b" " * 700).status_code == 302
    response = upload(client, "second.pdf", PDF + b" " * 400)
    assert response.status_code == 422
    assert (
        "“second.pdf” (0.1 MB) does not fit: your files already use 0.1 MB of the "
        "0 MB your CRM may hold, so 0 MB are free."
    ) in page_text(response)
    assert [name for name, _size in stored(app, classroom)] == ["first.pdf"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("setup.exe", EXE, "“setup.exe” cannot be uploaded: files of this type"),
        ("macro.docm", office_file("word/document.xml"), "files of this type"),
        ("no-extension", PDF, "files of this type are not allowed"),
        # A program renamed to an allowed extension is still a program.
        ("report.pdf", EXE, "“report.pdf” is not really a PDF file"),
        ("photo.jpg", PNG, "“photo.jpg” is not really a JPEG file"),
        ("notes.txt", EXE, "“notes.txt” is not really a text file"),
        ("budget.xlsx", office_file("word/document.xml"), "not really a Excel"),
        ("letter.docx", b"PK\x03\x04 not a zip at all", "not really a Word file"),
    ],
)
def test_disallowed_types_are_refused_by_name_and_by_content(
    app, client, auth, classroom, name, data, message
):
    auth.login("alice")
    response = upload(client, name, data)
    assert response.status_code == 422
    page = page_text(response)
    assert message in page
    assert ".pdf, .png, .jpg" in page  # the allowed types are listed on the form
    assert stored(app, classroom) == []


@pytest.mark.parametrize(
    "name",
    # The test client's multipart encoding halves backslashes: "\\\\" arrives as "\\".
    ["../../etc/passwd.txt", "C:\\\\Users\\\\plan.txt", "合同/报告.txt", "..\\\\x.txt"],
)
def test_a_name_with_path_parts_is_refused(app, client, auth, classroom, name):
    auth.login("alice")
    response = upload(client, name, b"hello")
    assert response.status_code == 422
    assert "a file name cannot contain folders" in page_text(response)
    assert stored(app, classroom) == []


def test_every_allowed_type_with_the_right_content_is_accepted(
    app, client, auth, classroom
):
    files = {
        "a.pdf": PDF,
        "b.png": PNG,
        "c.jpeg": b"\xff\xd8\xff\xe0" + b"\x00" * 16,
        "d.gif": b"GIF89a" + b"\x00" * 16,
        "e.csv": "名称,金额\n华为,100\n".encode("gb18030"),
        "f.txt": "二季度报告\n".encode(),
        "g.docx": office_file("word/document.xml"),
        "h.xlsx": office_file("xl/workbook.xml"),
        "i.pptx": office_file("ppt/presentation.xml"),
    }
    auth.login("alice")
    for name, data in files.items():
        assert upload(client, name, data).status_code == 302, name
    assert [n for n, _size in stored(app, classroom)] == list(files)


def test_names_keep_chinese_letters_and_lose_unsafe_characters(
    app, client, auth, classroom
):
    auth.login("alice")
    upload(client, "  二季度 销售报告.pdf ", PDF)
    upload(client, "a<b>:c?|*.pdf", PDF)
    upload(client, "zero\u200bwidth\u0007.pdf", PDF)
    assert [n for n, _size in stored(app, classroom)] == [
        "二季度 销售报告.pdf",
        "a_b__c___.pdf",
        "zerowidth.pdf",
    ]


# ---------------------------------------------------------------- downloads


def test_a_download_is_an_attachment_with_its_type_and_an_encoded_chinese_name(
    app, client, auth, classroom
):
    auth.login("alice")
    upload(client, "二季度报告.pdf", PDF)
    upload(client, "Plan (v2).pdf", PDF)
    chinese = client.get("/crm/documents/1/download")
    assert chinese.status_code == 200
    assert chinese.data == PDF
    assert chinese.mimetype == "application/pdf"
    assert chinese.headers["X-Content-Type-Options"] == "nosniff"
    assert chinese.headers["Content-Disposition"] == (
        "attachment; filename=\"document-1.pdf\"; filename*=UTF-8''"
        + quote("二季度报告.pdf")
    )
    plain = client.get("/crm/documents/2/download")
    assert plain.headers["Content-Disposition"].startswith(
        'attachment; filename="Plan (v2).pdf"; '
    )
    assert client.get("/crm/documents/99/download").status_code == 404


def test_another_students_files_are_out_of_reach(app, client, auth, classroom):
    auth.login("alice")
    upload(client, "secret.pdf", PDF)
    auth.logout()
    auth.login("bob")
    assert client.get("/crm/documents/1/download").status_code == 404
    assert "secret.pdf" not in client.get("/crm/documents/").get_data(as_text=True)


def test_the_read_only_view_downloads_but_never_uploads(app, client, auth, classroom):
    auth.login("alice")
    upload(client, "plan.pdf", PDF)
    auth.logout()
    view_as_instructor(client, auth, classroom)
    assert client.get("/crm/documents/1/download").data == PDF
    assert upload(client, "more.pdf", PDF).status_code == 403
    page = client.get("/crm/accounts/1").get_data(as_text=True)
    assert 'id="attachments"' in page and "attach-form" not in page


# ---------------------------------------------------------- attachments


def test_any_record_page_shows_its_attachments_and_takes_new_ones(
    app, client, auth, classroom
):
    auth.login("alice")
    for url in ("/crm/accounts/1", "/crm/contacts/1", "/crm/opportunities/1"):
        page = client.get(url).get_data(as_text=True)
        assert 'id="attachments"' in page, url
        assert "No files attached yet." in page, url
    response = client.post(
        "/crm/documents/attach?module=accounts&record_id=1",
        data={"file": (io.BytesIO(PDF), "报价单.pdf")},
        content_type="multipart/form-data",
    )
    assert response.headers["Location"] == "/crm/accounts/1#attachments"
    page = page_text(client.get("/crm/accounts/1"))
    assert "“报价单.pdf” attached." in page
    assert re.search(r'<a href="/crm/documents/1">报价单.pdf</a>', page)
    assert "Attached file 报价单.pdf to account" in page  # the record's timeline
    assert "报价单.pdf" not in client.get("/crm/contacts/1").get_data(as_text=True)
    detail = page_text(client.get("/crm/documents/1"))
    assert 'Account: <a href="/crm/accounts/1">' in detail


def test_a_refused_attachment_says_why_on_the_record_page(app, client, auth, classroom):
    auth.login("alice")
    response = client.post(
        "/crm/documents/attach?module=contacts&record_id=1",
        data={"file": (io.BytesIO(EXE), "invoice.pdf")},
        content_type="multipart/form-data",
    )
    page = page_text(client.get(response.headers["Location"]))
    assert "“invoice.pdf” is not really a PDF file" in page
    assert stored(app, classroom) == []
    for junk in ("module=passwords&record_id=1", "module=accounts&record_id=999999"):
        assert client.post(f"/crm/documents/attach?{junk}").status_code == 404


def test_deleting_a_file_removes_its_bytes_and_notes_it_on_the_record(
    app, client, auth, classroom
):
    auth.login("alice")
    client.post(
        "/crm/documents/attach?module=accounts&record_id=1",
        data={"file": (io.BytesIO(PDF), "old.pdf")},
        content_type="multipart/form-data",
    )
    assert blob_count(app, classroom) == 1
    assert "cannot be downloaded again" in page_text(
        client.get("/crm/documents/1/delete")
    )
    client.post("/crm/documents/1/delete")
    assert stored(app, classroom) == [] and blob_count(app, classroom) == 0
    actions = classroom.in_tenant(
        app,
        lambda s: list(
            s.scalars(
                sa.select(AuditLog.action).where(
                    AuditLog.entity == "account", AuditLog.entity_id == 1
                )
            )
        ),
    )
    assert actions.count("attach") == 1 and actions.count("detach") == 1


# ------------------------------------------------------------------- folders


def test_folders_form_a_tree_and_list_their_files(app, client, auth, classroom):
    auth.login("alice")
    client.post("/crm/documents/folders/new", data={"name": "合同"})
    client.post("/crm/documents/folders/new", data={"name": "2026", "parent_id": "1"})
    response = client.post(
        "/crm/documents/folders/new", data={"name": "2026", "parent_id": "1"}
    )
    assert "This folder already holds a folder named “2026”." in page_text(response)
    upload(client, "in-folder.pdf", PDF, folder_id="2")
    upload(client, "top.pdf", PDF)
    listing = page_text(client.get("/crm/documents/?folder=2"))
    rows = re.findall(r'<a href="/crm/documents/\d+">([^<]+)</a>', listing)
    assert rows == ["in-folder.pdf"]
    tree = page_text(client.get("/crm/documents/"))
    assert tree.index("合同") < tree.index("2026")
    assert 'data-depth="1"' in tree  # 2026 sits under 合同
    # A folder cannot move into its own subfolder, nor be deleted while it holds any.
    moved = client.post(
        "/crm/documents/folders/1/edit", data={"name": "合同", "parent_id": "2"}
    )
    assert "Not a valid choice" in page_text(moved) or (
        "cannot go inside itself" in page_text(moved)
    )
    refused = client.post("/crm/documents/folders/2/delete")
    assert refused.status_code == 409
    assert "“2026” is not empty" in page_text(refused)
    client.post(
        "/crm/documents/1/edit", data={"name": "in-folder.pdf", "folder_id": ""}
    )
    assert client.post("/crm/documents/folders/2/delete").status_code == 302
    names = classroom.in_tenant(app, lambda s: list(s.scalars(sa.select(Folder.name))))
    assert names == ["合同"]


def test_a_folder_without_files_of_its_own_says_so_and_links_its_subfolders(
    app, client, auth, classroom
):
    auth.login("alice")
    client.post("/crm/documents/folders/new", data={"name": "Contracts"})
    client.post("/crm/documents/folders/new", data={"name": "Sub A", "parent_id": "1"})
    page = page_text(client.get("/crm/documents/?folder=1"))
    assert "This folder holds no files of its own." in page
    assert "No files match your search." not in page
    assert 'Subfolders: <a href="/crm/documents/?folder=2">Sub A</a>' in page
    searched = page_text(client.get("/crm/documents/?folder=1&q=nothing"))
    assert "No files match your search." in searched


def test_a_file_keeps_its_extension_when_renamed(app, client, auth, classroom):
    auth.login("alice")
    upload(client, "scan.png", PNG)
    response = client.post("/crm/documents/1/edit", data={"name": "scan.pdf"})
    assert "Keep the .png ending" in page_text(response)
    client.post("/crm/documents/1/edit", data={"name": "扫描件.png"})
    assert [n for n, _size in stored(app, classroom)] == ["扫描件.png"]


@pytest.mark.parametrize("name", ["%_\\", "../scan.png", ".png", ""])
def test_a_rename_the_rules_refuse_is_shown_beside_the_name(
    app, client, auth, classroom, name
):
    auth.login("alice")
    upload(client, "scan.png", PNG)
    response = client.post("/crm/documents/1/edit", data={"name": name})
    # The refusal was raised for the upload form's file field: a 500 here.
    assert response.status_code == 422
    assert 'id="name-errors"' in response.get_data(as_text=True)
    assert [n for n, _size in stored(app, classroom)] == ["scan.png"]


# ------------------------------------------- files live in the tenant database


def test_reset_removes_files_added_after_the_seed_and_a_save_point_restores_them(
    app, client, auth, classroom
):
    auth.login("alice")
    client.post("/crm/documents/folders/new", data={"name": "Lab 3"})
    folder_id = classroom.in_tenant(app, lambda s: s.scalar(sa.select(Folder.id)))
    upload(client, "lab3.pdf", PDF, folder_id=str(folder_id))
    with app.app_context():
        tenancy.snapshot(classroom.tenant(0), "lab-3")
        tenancy.reset_tenant(classroom.tenant(0))
        db.session.commit()
    seeded = stored(app, classroom)  # the scenario's own files, and nothing else
    assert ("lab3.pdf", len(PDF)) not in seeded
    assert blob_count(app, classroom) == len(seeded)
    with app.app_context():
        tenancy.restore_snapshot(classroom.tenant(0), "lab-3")
    assert stored(app, classroom) == [("lab3.pdf", len(PDF))]
    document_id = classroom.in_tenant(app, lambda s: s.scalar(sa.select(Document.id)))
    assert client.get(f"/crm/documents/{document_id}/download").data == PDF
    folder_page = client.get(f"/crm/documents/?folder={folder_id}")
    assert "Lab 3" in folder_page.get_data(as_text=True)


def test_a_backup_carries_the_files_inside_the_tenant_database(
    app, client, auth, classroom, tmp_path
):
    from sandbox.backup import create_backup

    auth.login("alice")
    upload(client, "backed-up.pdf", PDF)
    with app.app_context():
        manifest = create_backup(tmp_path / "backup.zip")
        member = classroom.tenant(0).file_path
    alice = next(t for t in manifest["tenants"] if t["file_path"] == member)
    assert alice["row_counts"]["document"] == 1
    with zipfile.ZipFile(tmp_path / "backup.zip") as archive:
        (tmp_path / "tenant.sqlite").write_bytes(archive.read(member))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'tenant.sqlite'}")
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT data FROM document_blob")) == PDF
    finally:
        engine.dispose()


def test_junk_ids_in_the_query_string_give_normal_pages(app, client, auth, classroom):
    auth.login("alice")
    for junk in ("²", "٣", "-1", "99999999999999999999999", "1e3", "abc"):
        for url in (
            f"/crm/documents/?folder={junk}",
            f"/crm/documents/new?folder={junk}",
            f"/crm/documents/folders/new?parent={junk}",
        ):
            assert client.get(url).status_code == 200, url
        attach = f"/crm/documents/attach?module=accounts&record_id={junk}"
        assert client.post(attach).status_code == 404


def test_sizes_read_as_people_say_them(app):
    from sandbox.crm.documents import file_size

    with app.test_request_context():
        assert [str(file_size(n)) for n in (1, 820, 12800)] == [
            "1 byte",
            "820 bytes",
            "12.5 KB",
        ]
