"""Reference solution of "Knowledge base and callback"."""


def step_publish_article(crm, facts):
    article = facts["article"]
    crm.submit(
        "/crm/knowledge/new", {"title": article["title"], "body": article["body"]}
    )
    article_id = crm.find_id("article", title=article["title"])
    crm.post(f"/crm/knowledge/{article_id}/submit")
    crm.post(f"/crm/knowledge/{article_id}/publish")


def step_solve(crm, facts):
    case = crm.find_id("case", number=facts["kb_case"]["number"])
    article = crm.find_id("article", title=facts["article"]["title"])
    crm.submit(f"/crm/cases/{case}/resolve", {"article_id": str(article)})


def step_callback(crm, facts):
    case = crm.find_id("case", number=facts["kb_case"]["number"])
    crm.submit(f"/crm/cases/{case}/callback", {"satisfaction": "5"})
    crm.post(f"/crm/cases/{case}/close")
