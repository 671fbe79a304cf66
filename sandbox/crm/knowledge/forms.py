from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from sandbox.crm.forms import (
    CodeSelectField,
    ColleagueSelectField,
    RecordForm,
    label_for,
)
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.knowledge import Article


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Article, field)


class ArticleForm(RecordForm):
    title = StringField(L("title"), validators=[DataRequired(), Length(max=200)])
    category = CodeSelectField(
        L("category"), codes="article_category", blank=True, validators=[Optional()]
    )
    keywords = StringField(
        L("keywords"),
        validators=[Optional(), Length(max=300)],
        description=_l("Words people search for, separated by spaces or commas."),
    )
    owner_id = ColleagueSelectField(L("owner_id"))
    body = TextAreaField(
        L("body"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l("Markdown: **bold**, lists with -, links as [text](url)."),
    )
    submit = SubmitField(_l("Save"))
