"""Import: preview, good and bad rows, updates instead of duplicates, GBK files, and
broken files that import nothing."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import openpyxl
import pytest
import sqlalchemy as sa

from sandbox.crm.transfer.reading import ImportFileError, read_table
from sandbox.crm.transfer.service import plan_import, run_import
from sandbox.crm.transfer.specs import ACCOUNTS, LEADS, PRODUCTS
from sandbox.models.crm import Account, AuditLog, Colleague, Contact
from sandbox.models.crm.leads import Lead
from sandbox.models.crm.products import Product, ProductCategory
from tests.helpers import make_account, make_contact


def upload(client, key: str, data: bytes, filename: str) -> str:
    response = client.post(
        f"/crm/{key}/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def confirm(client, key: str, preview: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview)
    token = token or re.search(r'name="token" value="([^"]+)"', preview)
    assert token, "the preview has no confirm form"
    response = client.post(f"/crm/{key}/import/confirm", data={"token": token.group(1)})
    assert response.status_code == 302
    return response


def count(app, classroom, model) -> int:
    return classroom.in_tenant(
        app, lambda s: s.scalar(sa.select(sa.func.count(model.id)))
    )


ACCOUNTS_CSV = """Account name,Account type,Industry,City,Annual revenue,Employees,Email
Harbor Freight Partners,Customer,Logistics,Ningbo,"1,250,000.50",120,ops@harbor.example
,Customer,,Ningbo,,,
Blue Sky Robotics,VIP,,Shenzhen,,,
Quiet Lake Foods,prospect,,Wuxi,lots,-3,not-an-email
Mountain Tea Co,合作伙伴,,Hangzhou,,,
harbor freight partners,Customer,,Ningbo,,,
"""


def test_good_rows_import_and_each_bad_row_is_reported(app, client, auth, classroom):
    auth.login("alice")
    before = count(app, classroom, Account)
    preview = upload(client, "accounts", ACCOUNTS_CSV.encode(), "accounts.csv")
    assert "Nothing has been saved yet." in preview
    assert count(app, classroom, Account) == before  # a preview writes nothing
    rejects = re.search(r"<tbody>(.*?)</tbody>", preview, re.S).group(1)
    lines = dict(
        re.findall(r"<tr><td>(\d+)</td><td>.*?</td><td[^>]*>(.*?)</td>", rejects)
    )
    assert set(lines) == {"3", "4", "5", "7"}
    assert "Account name is required." in lines["3"]
    assert "“VIP” is not one of" in lines["4"]
    assert "Annual revenue" in lines["5"] and "Employees" in lines["5"]
    assert "not a valid email address" in lines["5"]
    assert "Same account name as line 2." in lines["7"]
    assert "2</span> to create" in preview and "4</span> rejected" in preview

    response = confirm(client, "accounts", preview)
    assert response.location == "/crm/accounts/"
    flashed = client.get("/crm/accounts/").get_data(as_text=True)
    assert "2 created, 0 updated, 0 unchanged, 4 rows rejected" in flashed
    assert count(app, classroom, Account) == before + 2

    def check(session):
        harbor = session.scalars(
            sa.select(Account).where(Account.name == "Harbor Freight Partners")
        ).one()
        assert harbor.account_type == "customer" and harbor.industry == "logistics"
        assert harbor.annual_revenue == Decimal("1250000.50")
        assert harbor.employees == 120
        tea = session.scalars(sa.select(Account).where(Account.city == "Hangzhou"))
        assert [a.account_type for a in tea if a.name == "Mountain Tea Co"] == [
            "partner"  # the Chinese label was read as its code
        ]
        created = session.scalars(
            sa.select(AuditLog).filter_by(entity="account", entity_id=harbor.id)
        ).one()
        assert created.action == "create" and created.actor == "alice"

    classroom.in_tenant(app, check)


def test_reimport_updates_instead_of_duplicating(app, client, auth, classroom):
    auth.login("alice")
    first = "Account name,City,Phone\nRiver Bend Ltd,Suzhou,111\n"
    confirm(client, "accounts", upload(client, "accounts", first.encode(), "a.csv"))
    before = count(app, classroom, Account)
    # the same company typed differently: case, full-width letters, trailing dot
    again = "客户名称,城市,电话\nＲＩＶＥＲ ＢＥＮＤ LTD.,Suzhou,222\n"
    preview = upload(client, "accounts", again.encode(), "a.csv")
    assert "1</span> to update" in preview and "0</span> to create" in preview
    # the preview shows what changes, from what to what, before anything is written
    assert "<div>Phone: 111 → 222</div>" in preview
    confirm(client, "accounts", preview)
    assert count(app, classroom, Account) == before

    def check(session):
        account = session.scalars(
            sa.select(Account).where(Account.name == "River Bend Ltd")
        ).one()
        assert account.phone == "222" and account.city == "Suzhou"
        update = session.scalars(
            sa.select(AuditLog).filter_by(
                entity="account", entity_id=account.id, action="update"
            )
        ).one()
        assert update.changes == {"phone": ["111", "222"]}

    classroom.in_tenant(app, check)
    # the same file a third time changes nothing and writes no audit row
    preview = upload(client, "accounts", again.encode(), "a.csv")
    assert "1</span> unchanged" in preview
    assert "There is nothing to import" in preview


def test_gbk_csv_from_chinese_excel_imports(app, client, auth, classroom):
    auth.login("alice")
    text = (
        "客户名称;客户类型;行业;城市;年收入\r\n"
        "杭州西湖茶业有限公司;客户;零售;杭州;880000\r\n"
        "深圳前海科技;潜在客户;;深圳;\r\n"
    )
    data = text.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    preview = upload(client, "accounts", data, "客户.csv")
    assert "2</span> to create" in preview
    confirm(client, "accounts", preview)

    def check(session):
        tea = session.scalars(
            sa.select(Account).where(Account.name == "杭州西湖茶业有限公司")
        ).one()
        assert tea.city == "杭州" and tea.account_type == "customer"
        assert tea.industry == "retail" and tea.annual_revenue == Decimal("880000.00")
        assert session.scalar(
            sa.select(Account.id).where(Account.name == "深圳前海科技")
        )

    classroom.in_tenant(app, check)


def test_gb18030_only_characters_import(app, classroom):
    table = read_table("客户名称\n䶮鑫商贸\n".encode("gb18030"), "a.csv")
    assert table.rows == [(2, ["䶮鑫商贸"])]


def xlsx_bytes(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"\xff\xfe\x00\xd8" + b"\x81\x30\x81" * 5, "a.csv", "readable encoding"),
        (b"Account name\nA\x00B\n", "a.csv", "readable encoding"),
        (b"%PDF-1.4 not a sheet", "a.pdf", "Choose a .csv or .xlsx file."),
        (b"Account name\nX\n", "a.xlsx", "not a readable Excel workbook"),
        (b"PK\x03\x04broken zip", "a.xlsx", "not a readable Excel workbook"),
        (b"\xd0\xcf\x11\xe0 old", "a.xls", "Old Excel files (.xls)"),
        (b"", "a.csv", "The file is empty."),
        (b"\n\n,,\n", "a.csv", "no header row"),
        (b"City,Phone\nNingbo,1\n", "a.csv", "no “Account name” column"),
        (b"Account name,Name\nX,Y\n", "a.csv", "both mean Account name"),
        (b"Account name\n" + b"Big Co\n" * 20_000, "a.csv", "larger than 100 KB"),
        (
            b"Account name" + b",Note" * 200 + b"\nAcme" + b",x" * 200 + b"\n",
            "a.csv",
            "more than 200 columns",
        ),
    ],
)
def test_a_broken_file_imports_nothing(
    app, client, auth, classroom, monkeypatch, data, filename, message
):
    from sandbox.crm.transfer import reading

    # A smaller limit keeps the upload in memory (the test client leaks larger ones)
    monkeypatch.setattr(reading, "MAX_BYTES", 100 * 1024)
    auth.login("alice")
    before = count(app, classroom, Account)
    page = upload(client, "accounts", data, filename)
    assert message in page
    assert "invalid-feedback" in page  # shown beside the file field
    assert 'name="token"' not in page
    assert count(app, classroom, Account) == before


def test_a_workbook_that_is_no_workbook_inside_imports_nothing(
    app, client, auth, classroom
):
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    auth.login("alice")
    page = upload(client, "accounts", out.getvalue(), "a.xlsx")
    assert "not a readable Excel workbook" in page


def test_too_many_rows_is_refused_as_a_whole(monkeypatch):
    from sandbox.crm.transfer import reading

    monkeypatch.setattr(reading, "MAX_ROWS", 3)
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_table(b"Account name\na\nb\nc\nd\n", "a.csv")
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_table(xlsx_bytes([["Account name"], *[[n] for n in "abcd"]]), "a.xlsx")


def test_a_sheet_declared_as_wide_as_excel_allows_is_read_only_as_wide_as_it_needs():
    from sandbox.crm.transfer.reading import MAX_COLUMNS

    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Account name"
    for row in range(2, 202):
        sheet.cell(row=row, column=1, value=f"Wide Co {row}")
        sheet.cell(row=row, column=16_384, value="x")  # column XFD, Excel's last
    out = io.BytesIO()
    book.save(out)
    # Each of these rows would have been read 16,384 cells wide: an 86 kB file of
    # 8,000 such rows took 2 GB of memory.
    table = read_table(out.getvalue(), "wide.xlsx")
    assert len(table.rows) == 200
    assert max(len(cells) for _line, cells in table.rows) <= MAX_COLUMNS
    assert table.rows[0][1][0] == "Wide Co 2"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_file_with_data_past_the_column_limit_is_refused(monkeypatch, kind):
    from sandbox.crm.transfer import reading

    monkeypatch.setattr(reading, "MAX_COLUMNS", 3)
    fits = [["Account name", "City", "Phone"], ["Acme", "Ningbo", "1"]]
    wide = [["Account name", "City", "Phone", "Notes"], ["Acme", "Ningbo", "1", "x"]]

    def encode(rows):
        if kind == "xlsx":
            return xlsx_bytes(rows)
        return "\n".join(",".join(row) for row in rows).encode()

    assert read_table(encode(fits), f"a.{kind}").headers == fits[0]
    with pytest.raises(ImportFileError, match="more than 3 columns"):
        read_table(encode(wide), f"a.{kind}")


def test_xlsx_import_with_chinese_headers_and_numbers(app, client, auth, classroom):
    auth.login("alice")
    data = xlsx_bytes(
        [
            ["客户名称 *", "城市", "电话", "年收入", "员工人数", "负责人"],
            ["Pearl River Trading", "Guangzhou", 13800138000, 1500.5, 42.0, None],
            [None, None, None, None, None, None],
            ["Owner Unknown Ltd", None, None, None, None, "Nobody Atall"],
        ]
    )
    preview = upload(client, "accounts", data, "accounts.xlsx")
    assert "1</span> to create" in preview and "1</span> rejected" in preview
    assert "No active colleague is called “Nobody Atall”." in preview
    assert "<td>4</td>" in preview  # line numbers count the blank row
    confirm(client, "accounts", preview)

    def check(session):
        account = session.scalars(
            sa.select(Account).where(Account.name == "Pearl River Trading")
        ).one()
        assert account.phone == "13800138000"
        assert account.annual_revenue == Decimal("1500.50")
        assert account.employees == 42

    classroom.in_tenant(app, check)


def test_contacts_match_by_email_and_link_accounts_by_name(
    app, client, auth, classroom
):
    classroom.in_tenant(app, lambda s: make_account(s, name="Golden Gate Foods Ltd"))
    classroom.in_tenant(
        app,
        lambda s: make_contact(
            s, first_name="Ann", last_name="Lee", email="ann@gg.example"
        ),
    )
    auth.login("alice")
    before = count(app, classroom, Contact)
    text = (
        "Name,Account,Email,Mobile\n"
        "Ann Lee,golden gate foods ltd.,ANN@gg.example,139\n"
        "王小明,Golden Gate Foods Ltd,,138\n"
        "Nobody Here,No Such Account,,\n"
    )
    preview = upload(client, "contacts", text.encode(), "contacts.csv")
    assert "1</span> to create" in preview and "1</span> to update" in preview
    assert "No account is called “No Such Account”" in preview
    confirm(client, "contacts", preview)
    assert count(app, classroom, Contact) == before + 1

    def check(session):
        account_id = session.scalar(
            sa.select(Account.id).where(Account.name == "Golden Gate Foods Ltd")
        )
        ann = session.scalars(
            sa.select(Contact).where(Contact.email == "ann@gg.example")
        ).one()
        assert ann.mobile == "139" and ann.account_id == account_id
        wang = session.scalars(sa.select(Contact).where(Contact.mobile == "138")).one()
        assert (wang.last_name, wang.first_name) == ("王", "小明")
        assert wang.account_id == account_id

    classroom.in_tenant(app, check)
    # without an email, the same name finds the same contact
    again = upload(client, "contacts", "姓名,手机\n王小明,137\n".encode(), "c.csv")
    assert "1</span> to update" in again


def test_preview_is_confirmed_only_by_its_own_token(app, client, auth, classroom):
    auth.login("alice")
    preview = upload(client, "accounts", b"Account name\nToken Test Ltd\n", "a.csv")
    before = count(app, classroom, Account)
    response = client.post(
        "/crm/accounts/import/confirm", data={"token": "forged-token-value-123"}
    )
    assert response.status_code == 302 and "/import" in response.location
    assert count(app, classroom, Account) == before
    confirm(client, "accounts", preview)
    assert count(app, classroom, Account) == before + 1
    # the kept file is used once
    confirm(client, "accounts", preview)
    assert count(app, classroom, Account) == before + 1
    assert not list(
        (
            app.instance_path
            and __import__("pathlib").Path(app.instance_path, "imports")
        ).glob("*.json")
    )


def test_templates_in_both_languages_are_accepted(app, client, auth, classroom):
    auth.login("alice")
    english = client.get("/crm/accounts/import/template.csv")
    assert english.get_data().decode("utf-8-sig").startswith("Account name *,")
    client.post("/language", data={"language": "zh"})
    workbook = client.get("/crm/accounts/import/template.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(workbook.get_data()))
    header = [c.value for c in next(book.worksheets[0].iter_rows())]
    assert header[0] == "客户名称 *"
    assert book.worksheets[1].max_row > 5  # the column guide
    book.worksheets[0].append(["模板客户"] + [None] * (len(header) - 1))
    out = io.BytesIO()
    book.save(out)
    preview = upload(client, "accounts", out.getvalue(), "t.xlsx")
    assert "1</span>" in preview and "模板客户" in preview
    for template in ("template.csv", "template.xlsx"):
        data = client.get(f"/crm/contacts/import/{template}").get_data()
        page = upload(client, "contacts", data, template)
        assert "0</span> 新建" in page  # the headers fit; there are no rows


def test_each_problem_of_a_refused_row_has_its_own_line_in_chinese(
    client, auth, classroom
):
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    text = "客户名称,客户类型,负责人\n丙公司,潜在,nobody\n"
    page = upload(client, "accounts", text.encode(), "a.csv")
    cell = re.search(r'<td class="text-danger">(.*?)</td>', page, re.S).group(1)
    problems = re.findall(r"<div>(.*?)</div>", cell)
    assert [p.split("：")[0] for p in problems] == ["客户类型", "负责人"], problems


def test_import_page_lists_columns_and_refuses_unknown_modules(client, auth, classroom):
    auth.login("alice")
    page = client.get("/crm/accounts/import").get_data(as_text=True)
    assert "Account name" in page and "Prospect, Customer" in page
    assert client.get("/crm/nothing/import").status_code == 404


def test_a_failing_commit_writes_nothing(app, classroom):
    text = b"Account name,City\nFirst Row Ltd,A\nClash Ltd,B\nLast Row Ltd,C\n"

    def run(session):
        plan = plan_import(session, ACCOUNTS, read_table(text, "a.csv"))
        # another request saves "Clash Ltd" between the preview and the commit
        session.add(Account(name="CLASH LTD"))
        session.commit()
        with pytest.raises(sa.exc.IntegrityError):
            run_import(session, plan)
        return session.scalar(
            sa.select(sa.func.count(Account.id)).where(
                Account.name.in_(["First Row Ltd", "Last Row Ltd"])
            )
        )

    assert classroom.in_tenant(app, run) == 0


def test_leads_import_matches_email_then_name_and_company(app, classroom):
    text = (
        "Lead name,Company,Email,Lead status,Rating,Owner\n"
        "Li Na,Sunrise Solar,li@sunrise.example,New,Hot,\n"
        "Zhou Bo,Sunrise Solar,,已联系,温,\n"
        "Wu Fei,Moon Ltd,,Converted,,\n"
    )

    def run(session):
        owner = session.scalar(sa.select(Colleague.name).limit(1))
        first = plan_import(session, LEADS, read_table(text.encode(), "l.csv"))
        assert first.counts == {"create": 2, "update": 0, "unchanged": 0, "reject": 1}
        assert "is not one of" in first.of("reject")[0].errors[0]
        run_import(session, first)
        again = (
            "Email,Lead name,Company,Owner\n"
            f"LI@SUNRISE.EXAMPLE,Li Na,Sunrise Solar,{owner}\n"
            "\n"
            ",zhou bo,SUNRISE SOLAR,\n"
        )
        second = plan_import(session, LEADS, read_table(again.encode(), "l.csv"))
        assert second.counts == {"create": 0, "update": 1, "unchanged": 1, "reject": 0}
        run_import(session, second)
        li = session.scalars(sa.select(Lead).where(Lead.name == "Li Na")).one()
        zhou = session.scalars(sa.select(Lead).where(Lead.name == "Zhou Bo")).one()
        return li.rating, li.owner.name == owner, zhou.status, zhou.rating

    with app.test_request_context():  # messages are translated for a request
        result = classroom.in_tenant(app, run)
    assert result == ("hot", True, "contacted", "warm")


def test_products_import_by_code(app, classroom):
    def run(session):
        session.add(ProductCategory(name="Licences Sold"))
        session.commit()
        text = (
            "Product code,Product name,Category,Unit,List price,Active\n"
            "SW-01,CRM Suite,licences sold,许可,999.00,yes\n"
            "SW-02,No Price,Licences Sold,,,\n"
            "HW-01,Router,Gadgets,,10,\n"
        )
        plan = plan_import(session, PRODUCTS, read_table(text.encode(), "p.csv"))
        reasons = {row.line: row.errors for row in plan.of("reject")}
        assert reasons[3] == ["List price is required."]
        assert "No product category is called “Gadgets”" in reasons[4][0]
        run_import(session, plan)
        update = "产品编码,标准价格,有效\nsw-01,1099,否\n"
        run_import(
            session,
            plan_import(session, PRODUCTS, read_table(update.encode(), "p.csv")),
        )
        product = session.scalars(
            sa.select(Product).where(Product.code == "SW-01")
        ).one()
        return product.unit, product.list_price, product.active, product.category.name

    with app.test_request_context():
        result = classroom.in_tenant(app, run)
    assert result == (
        "license",
        Decimal("1099.00"),
        False,
        "Licences Sold",
    )


def test_bulk_created_records_are_audited_as_the_orm_audits_them(app, classroom):
    """The import writes its records and audit rows in bulk; each audit row must say
    what the ORM's listener says for the same record created one by one."""
    from sandbox.crm.transfer.service import create_records

    def run(session):
        owner_id = session.scalar(sa.select(Colleague.id).limit(1))
        values = {
            "name": "Audit Twin",
            "company": "Twin Co",
            "email": "twin@example.com",
            "rating": "hot",
            "owner_id": owner_id,
        }
        one = Lead(**values)
        session.add(one)
        session.flush()
        create_records(session, Lead, [dict(values)])
        account_values = {"name": "Twin Account Ltd", "annual_revenue": Decimal("5")}
        create_records(session, Account, [dict(account_values)])
        session.commit()
        rows = session.scalars(
            sa.select(AuditLog).where(AuditLog.entity == "lead").order_by(AuditLog.id)
        ).all()[-2:]
        assert rows[0].entity_id == one.id and rows[1].entity_id != one.id
        for key in ("actor", "action", "record_name", "changes", "details"):
            assert getattr(rows[0], key) == getattr(rows[1], key), key
        assert rows[1].details == {"refs": {"owner_id": [None, one.owner.name]}}
        account = session.scalars(
            sa.select(Account).where(Account.name == "Twin Account Ltd")
        ).one()
        assert account.name_key == "twin account ltd"  # the name's events ran
        audit = session.scalars(
            sa.select(AuditLog).filter_by(entity="account", entity_id=account.id)
        ).one()
        assert audit.changes["annual_revenue"] == [None, "5.00"]
        assert audit.changes["account_type"] == [None, "prospect"]  # the default
        assert session.get(Lead, rows[1].entity_id).status == "new"

    classroom.in_tenant(app, run)


def test_a_huge_upload_is_refused_before_it_is_read(
    app, client, auth, classroom, monkeypatch
):
    from sandbox.crm.transfer import routes

    monkeypatch.setattr(routes, "MAX_BYTES", 10_000)  # so 4 × the limit is 40 KB
    auth.login("alice")
    response = client.post(
        "/crm/accounts/import",
        data={"file": (io.BytesIO(b"Account name\n" + b"x\n" * 25_000), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_account_rules_apply_to_imported_rows(app, client, auth, classroom):
    classroom.in_tenant(
        app,
        lambda s: make_account(
            s,
            name="Closed Shop Ltd",
            city="Xian",
            inactive=True,
            inactive_reason="Went out of business",
        ),
    )
    auth.login("alice")
    text = (
        "Account name,City\n"
        "Star*Trading,Beijing\n"
        "北京#星光贸易,Beijing\n"
        "Closed Shop Ltd,Chengdu\n"
        "closed shop ltd,Xian\n"
        "Wide   Spaces   Ltd,Wuhan\n"
    )
    preview = upload(client, "accounts", text.encode(), "a.csv")
    assert "An English account name cannot contain “*”" in preview
    assert "A Chinese account name cannot contain “#”" in preview
    assert "is inactive (Went out of business) and cannot be changed" in preview
    assert "Same account name as line 4." in preview
    assert "1</span> to create" in preview
    confirm(client, "accounts", preview)
    names = classroom.in_tenant(
        app,
        lambda s: s.scalars(
            sa.select(Account.name).where(Account.city.in_(["Wuhan", "Chengdu"]))
        ).all(),
    )
    assert names == ["Wide Spaces Ltd"]  # spaces collapsed as the form does


def rejected_reasons(page: str) -> dict[str, tuple[str, str]]:
    """Each rejected row of a preview: line -> (name cell, reasons)."""
    table = re.search(r'class="[^"]*import-rejects[^"]*">(.*?)</table>', page, re.S)
    if table is None:
        return {}
    return {
        line: (name, reasons)
        for line, name, reasons in re.findall(
            r"<tr><td>(\d+)</td><td>(.*?)</td><td[^>]*>(.*?)</td></tr>",
            table.group(1),
            re.S,
        )
    }


def test_a_decimal_comma_is_refused_never_read_as_thousands(app, classroom):
    """1234,50 and 1,5 may be decimal commas: refused, where they used to import
    123450 and 15; commas between thousands still read."""
    semicolons = "Account name;City;Annual revenue\nSemi Co;Paris;1234,50\n"
    commas = (
        "Account name,Annual revenue,Employees\n"
        'Quoted Co,"1,5",\n'
        'Dotted Co,"1.234,50",\n'
        'Staff Co,,"1,5"\n'
        'Thousands Co,"1,234.50","1,200"\n'
        "Plain Co,1234.50,\n"
    )

    def run(session):
        first = plan_import(session, ACCOUNTS, read_table(semicolons.encode(), "a.csv"))
        second = plan_import(session, ACCOUNTS, read_table(commas.encode(), "a.csv"))
        run_import(session, second)
        stored = dict(
            session.execute(
                sa.select(Account.name, Account.annual_revenue).where(
                    Account.name.in_(["Thousands Co", "Plain Co"])
                )
            ).all()
        )
        return first.of("reject"), second.of("reject"), stored

    with app.test_request_context():
        semi, rejected, stored = classroom.in_tenant(app, run)
    assert [row.line for row in semi] == [2]
    assert semi[0].errors == [
        "Annual revenue: “1234,50” is unclear: use a point for decimals and commas "
        "only between thousands, such as 1234.50 or 1,234.50."
    ]
    reasons = {row.line: row.errors for row in rejected}
    assert set(reasons) == {2, 3, 4}
    assert reasons[2][0].startswith("Annual revenue: “1,5” is unclear")
    assert reasons[3][0].startswith("Annual revenue: “1.234,50” is unclear")
    assert reasons[4][0].startswith("Employees: “1,5” is unclear")
    assert stored == {
        "Thousands Co": Decimal("1234.50"),
        "Plain Co": Decimal("1234.50"),
    }


def test_a_western_csv_is_not_misread_as_chinese():
    """A Windows-1252 "Köln" decodes as GB18030 to "K鰈n": such a file is refused,
    while Chinese files with characters outside GB2312 still read."""
    western = "Account name,City\nKoehler Tools Inc,Köln\n".encode("cp1252")
    with pytest.raises(ImportFileError, match="save it as “CSV UTF-8”"):
        read_table(western, "a.csv")
    chinese = "客户名称,城市\n朱镕基商贸,杭州\n王喆工作室,北京\n".encode("gbk")
    assert read_table(chinese, "a.csv").rows == [
        (2, ["朱镕基商贸", "杭州"]),
        (3, ["王喆工作室", "北京"]),
    ]


def test_a_reimported_export_keeps_a_deactivated_owner_and_code(
    app, client, auth, classroom
):
    """The edit form keeps a record's inactive owner or code; so does the import.
    A new record, or a change to that value, still takes only active ones."""
    from sandbox.crm.codes import default_list
    from sandbox.models.crm import CodeItem

    def setup(session):
        owner = session.scalars(sa.select(Colleague).where(~Colleague.is_self)).first()
        make_account(
            session, name="Old Inn Ltd", industry="hospitality", owner_id=owner.id
        )
        make_account(session, name="Corner Shop Ltd", industry="retail")
        owner.active = False
        for position, item in enumerate(default_list("industry")):
            session.add(
                CodeItem(
                    list_key="industry",
                    code=item.code,
                    label_en=item.en,
                    label_zh=item.zh,
                    position=position,
                    active=item.code != "hospitality",
                )
            )
        session.commit()
        return owner.name

    owner = classroom.in_tenant(app, setup)
    auth.login("alice")
    exported = client.get("/crm/accounts/export.csv?q=Old+Inn+Ltd").get_data()
    assert owner in exported.decode("utf-8-sig")
    assert "Hospitality" in exported.decode("utf-8-sig")
    preview = upload(client, "accounts", exported, "accounts.csv")
    assert "1</span> unchanged" in preview and "0</span> rejected" in preview

    text = (
        "Account name,Industry,Owner,City\n"
        f"Old Inn Ltd,Hospitality,{owner},Xian\n"
        "New Inn Ltd,Hospitality,,\n"
        f"New Desk Ltd,,{owner},\n"
        "Corner Shop Ltd,Hospitality,,\n"
    )
    reasons = rejected_reasons(upload(client, "accounts", text.encode(), "a.csv"))
    assert set(reasons) == {"3", "4", "5"}
    assert "“Hospitality” is not one of" in reasons["3"][1]
    assert f"No active colleague is called “{owner}”." in reasons["4"][1]
    assert "“Hospitality” is not one of" in reasons["5"][1]


def test_an_unqualified_lead_needs_its_reason_as_in_the_form(app, classroom):
    text = (
        "Lead name,Company,Lead status,Reason unqualified\n"
        "No Reason,Acme,Unqualified,\n"
        "With Reason,Acme,Unqualified,No budget\n"
        "Came Back,Acme,Contacted,\n"
    )

    def run(session):
        session.add(
            Lead(
                name="Came Back",
                company="Acme",
                status="unqualified",
                unqualified_reason="no_need",
            )
        )
        session.add(Lead(name="Still New", company="Acme", status="new"))
        session.commit()
        plan = plan_import(session, LEADS, read_table(text.encode(), "l.csv"))
        run_import(session, plan)
        # a file without the reason column cannot unqualify a lead either
        later = "Lead name,Company,Lead status\nStill New,Acme,Unqualified\n"
        again = plan_import(session, LEADS, read_table(later.encode(), "l.csv"))
        leads = {
            lead.name: (lead.status, lead.unqualified_reason)
            for lead in session.scalars(sa.select(Lead).where(Lead.company == "Acme"))
        }
        return plan, again, leads

    with app.test_request_context():
        plan, again, leads = classroom.in_tenant(app, run)
    assert [(r.line, r.errors) for r in plan.of("reject")] == [
        (2, ["Say why the lead is unqualified."])
    ]
    assert [(r.line, r.errors) for r in again.of("reject")] == [
        (2, ["Say why the lead is unqualified."])
    ]
    assert leads == {
        "With Reason": ("unqualified", "no_budget"),
        "Came Back": ("contacted", None),  # the reason left with the status
        "Still New": ("new", None),
    }


def formula_workbook(rows) -> bytes:
    """A workbook as programs that do not compute formulas save it: each formula
    without its value."""
    return xlsx_bytes(rows)  # openpyxl writes formulas without values


def test_a_formula_without_a_value_rejects_its_row(app, client, auth, classroom):
    auth.login("alice")
    data = formula_workbook(
        [
            ["Account name", "City", "Annual revenue", "Not imported"],
            ['=CONCATENATE("Formula ","Co")', "Paris", 10, None],
            ["Sum Co", "Paris", "=1+2", "=A1"],
            ["Clean Co", "Paris", 5, "=A1"],
        ]
    )
    table = read_table(data, "a.xlsx")
    assert table.formulas == {2: [0], 3: [2, 3], 4: [3]}
    reasons = rejected_reasons(upload(client, "accounts", data, "a.xlsx"))
    assert set(reasons) == {"2", "3"}
    assert (
        "Account name: This cell holds a formula; paste values only."
        in (reasons["2"][1])
    )
    assert "Account name is required" not in reasons["2"][1]
    assert (
        "Annual revenue: This cell holds a formula; paste values only."
        in (reasons["3"][1])
    )
    assert reasons["3"][0] == "Sum Co"
    before = count(app, classroom, Account)
    confirm(client, "accounts", upload(client, "accounts", data, "a.xlsx"))
    assert count(app, classroom, Account) == before + 1  # Clean Co only


def test_a_formula_with_its_computed_value_imports_the_value():
    import zipfile

    data = formula_workbook([["Account name", "City"], ["=B2", "Paris"]])
    cached = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        with zipfile.ZipFile(cached, "w") as target:
            for name in source.namelist():
                part = source.read(name)
                if name == "xl/worksheets/sheet1.xml":
                    part = part.replace(
                        b'<c r="A2"><f>B2</f><v /></c>',
                        b'<c r="A2" t="str"><f>B2</f><v>Paris</v></c>',
                    )
                    assert b"<v>Paris</v>" in part
                target.writestr(name, part)
    table = read_table(cached.getvalue(), "a.xlsx")
    assert table.rows == [(2, ["Paris", "Paris"])] and table.formulas == {}


def test_a_workbook_whose_first_sheet_does_not_fit_names_it(
    app, client, auth, classroom
):
    book = openpyxl.Workbook()
    book.active.title = "Read me"
    book.active.append(["This workbook holds our accounts."])
    book.create_sheet("Accounts").append(["Account name"])
    out = io.BytesIO()
    book.save(out)
    auth.login("alice")
    page = upload(client, "accounts", out.getvalue(), "a.xlsx")
    assert "The first sheet, “Read me”, has no “Account name” column" in page
    assert "only the first sheet of a workbook is read" in page
    upload_page = client.get("/crm/accounts/import").get_data(as_text=True)
    assert "only the first sheet is read" in upload_page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'Account name,City\n"Unclosed Co,Paris\nOther Co,Lyon\n',
            'The quote (") on line 2 is not closed',
        ),
        (
            b'Account name,City\n"Two\nlines",Paris\nX,"Open\n',
            'The quote (") on line 3 is not closed',  # lines count rows
        ),
        (
            b"Account name,Notes\nA,b\nBig Co," + b"x" * (1024 * 1024 + 1) + b"\n",
            "A cell on line 3 is larger than 1 MB",
        ),
    ],
)
def test_a_broken_csv_says_where(data, message):
    with pytest.raises(ImportFileError) as raised:
        read_table(data, "a.csv")
    assert message in raised.value.message


def test_quoted_cells_that_close_still_read():
    text = b'Account name,City\n"Say ""hi"" Co","Two\nlines"\nPlain "Co",x\n'
    assert read_table(text, "a.csv").rows == [
        (2, ['Say "hi" Co', "Two\nlines"]),
        (3, ['Plain "Co"', "x"]),
    ]


def test_a_rejected_contact_shows_the_name_from_its_row(client, auth, classroom):
    auth.login("alice")
    text = "Name,Email,Account\nJane Roe,not-an-email,\n王小明,,No Such Account\n"
    reasons = rejected_reasons(upload(client, "contacts", text.encode(), "c.csv"))
    assert reasons["2"][0] == "Jane Roe"
    assert reasons["3"][0] == "王小明"
    text = "Last name,First name,Email\n" + "R" * 81 + ",Jane,bad\n"
    reasons = rejected_reasons(upload(client, "contacts", text.encode(), "c.csv"))
    assert "R" * 81 in reasons["2"][0]


def test_the_preview_heading_is_one_sentence_in_chinese(client, auth, classroom):
    auth.login("alice")
    client.post("/language", data={"language": "zh"})
    page = upload(client, "accounts", "客户名称\n标题公司\n".encode(), "a.csv")
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", page).group(1)
    assert heading == "导入客户：预览"


def test_the_import_summary_counts_in_proper_plurals(app, client, auth, classroom):
    auth.login("alice")
    text = "Account name,Employees\nOne Row Ltd,\nBad Row Ltd,many\n"
    confirm(client, "accounts", upload(client, "accounts", text.encode(), "a.csv"))
    flashed = client.get("/crm/accounts/").get_data(as_text=True)
    assert "1 created, 0 updated, 0 unchanged, 1 row rejected." in flashed


def test_the_preview_shows_a_linked_record_and_an_amount_as_their_pages_do(
    app, client, auth, classroom
):
    from sandbox.models.crm import Colleague

    def pick(session):
        account = session.scalar(sa.select(Account).order_by(Account.id).limit(1))
        other = session.scalar(
            sa.select(Colleague)
            .where(Colleague.active, Colleague.id != (account.owner_id or 0))
            .limit(1)
        )
        return account.name, other.name

    name, colleague = classroom.in_tenant(app, pick)
    auth.login("alice")
    data = f"Account name,Annual revenue,Owner\n{name},1234.5,{colleague}\n"
    preview = upload(client, "accounts", data.encode(), "a.csv")
    assert "1</span> to update" in preview
    assert "→ 1,234.50</div>" in preview
    assert f"→ {colleague}</div>" in preview  # by name, not #id
