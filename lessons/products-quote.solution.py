"""Reference solution of "Products, line items and a quote"."""


def step_add_product(crm, facts):
    product = facts["new_product"]
    crm.submit(
        "/crm/products/new",
        {
            "code": product["code"],
            "name": product["name"],
            "list_price": str(product["list_price"]),
        },
    )


def step_line_item(crm, facts):
    product = facts["new_product"]
    deal = crm.find_id("opportunity", name=facts["quote_deal"]["name"])
    crm.submit(
        f"/crm/opportunities/{deal}/lines/new",
        {
            "product_id": str(crm.find_id("product", name=product["name"])),
            "quantity": str(product["quantity"]),
            "discount": str(product["discount"]),
            "unit_price": "",
        },
    )


def step_quote(crm, facts):
    deal = crm.find_id("opportunity", name=facts["quote_deal"]["name"])
    crm.post(f"/crm/opportunities/{deal}/quotes")
