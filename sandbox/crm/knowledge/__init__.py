"""Knowledge base (解决方案): solution articles, reviewed before they are published."""

from sandbox.crm.codes import define
from sandbox.crm.registry import Module, column, module_blueprint, register_module
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm import Colleague
from sandbox.models.crm.knowledge import Article

define(
    "article_category",
    _l("Article categories"),
    [
        ("how_to", "How-to", "操作指南"),
        ("troubleshooting", "Troubleshooting", "故障排除"),
        ("faq", "FAQ", "常见问题"),
        ("billing", "Billing", "账务"),
        ("known_issue", "Known issue", "已知问题"),
    ],
)
define(
    "article_status",
    _l("Article states"),
    [
        ("draft", "Draft", "草稿", "secondary"),
        ("review", "In review", "审核中", "warning"),
        ("published", "Published", "已发布", "success"),
        ("archived", "Archived", "已归档", "dark"),
    ],
)

bp = module_blueprint("knowledge", __name__)

MODULE = register_module(
    Module(
        key="knowledge",
        label=_l("Knowledge base"),
        entity_label=_l("Article"),
        noun=_l("article"),
        icon="journal-text",
        model=Article,
        blueprint=bp,
        group="service",
        order=20,
        id_arg="article_id",
        search=(Article.title, Article.keywords),
        columns=(
            column(Article.title, kind="link"),
            column(Article.category),
            column(Article.keywords),
            column(Article.status),
            column(
                Article.owner_id,
                key="owner",
                kind="ref",
                sort=Colleague.name,
                value=lambda article: article.owner,
            ),
            column(
                Article.updated_at,
                key="updated",
                kind="datetime",
                label=_l("Last changed"),
            ),
        ),
        default_sort="title",
    )
)

from sandbox.crm.knowledge import routes  # noqa: E402, F401
