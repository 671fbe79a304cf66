from decimal import Decimal

import sqlalchemy as sa
from wtforms import (
    DateField,
    DecimalField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from sandbox.crm.forms import (
    CHOOSE_CHOICE,
    NONE_CHOICE,
    CodeSelectField,
    ColleagueSelectField,
    MoneyField,
    RecordForm,
    RecordPickerField,
    label_for,
)
from sandbox.extensions import db
from sandbox.forms import IntegerField
from sandbox.i18n import gettext as _
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.competitors import Competitor, OpportunityCompetitor
from sandbox.models.crm.products import Product
from sandbox.models.crm.sales import ContactRole, LineItem, Opportunity

#: Small master tables offered in a select (a company has dozens, not thousands).
SELECT_LIMIT = 500


def L(field: str):  # noqa: N802 - reads like the label it returns
    return label_for(Opportunity, field)


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class StageSelectField(SelectField):
    """The company's stages, in order, in the current language."""

    def __init__(self, label=None, validators=None, *, open_only=False, **kw):
        kw.setdefault("coerce", _optional_int)
        super().__init__(label, validators, **kw)
        self.open_only = open_only

    def load_choices(self) -> None:
        from sandbox.crm.opportunities.service import stage_label, stages

        self.choices = [
            (str(stage.id), stage_label(stage))
            for stage in stages(db.session)
            if not (self.open_only and stage.is_closed)
        ]


class CompetitorSelectField(SelectField):
    def __init__(self, label=None, validators=None, *, blank=True, **kw):
        kw.setdefault("coerce", _optional_int)
        super().__init__(label, validators, **kw)
        self.blank = blank

    def load_choices(self) -> None:
        rows = db.session.execute(
            sa.select(Competitor.id, Competitor.name)
            .order_by(Competitor.name)
            .limit(SELECT_LIMIT)
        ).all()
        self.choices = [("", str(NONE_CHOICE))] * self.blank + [
            (str(i), n) for i, n in rows
        ]

    def pre_validate(self, form):
        if self.data is None and self.blank:
            return
        super().pre_validate(form)


class ProductSelectField(SelectField):
    def __init__(self, label=None, validators=None, **kw):
        kw.setdefault("coerce", _optional_int)
        super().__init__(label, validators, **kw)

    def load_choices(self) -> None:
        rows = db.session.execute(
            sa.select(Product.id, Product.name, Product.code, Product.active)
            .order_by(Product.name)
            .limit(SELECT_LIMIT)
        ).all()
        self.choices = [
            (str(i), _("%(label)s (%(note)s)", label=name, note=code))
            for i, name, code, active in rows
            if active or i == self.object_data
        ]


class OpportunityForm(RecordForm):
    name = StringField(L("name"), validators=[DataRequired(), Length(max=200)])
    account_id = RecordPickerField(
        L("account_id"), validators=[DataRequired()], module="accounts"
    )
    contact_id = RecordPickerField(L("contact_id"), module="contacts")
    stage_id = StageSelectField(L("stage_id"), validators=[InputRequired()])
    close_date = DateField(L("close_date"), validators=[InputRequired()])
    amount = MoneyField(L("amount"))
    probability = IntegerField(
        L("probability"),
        validators=[Optional(), NumberRange(min=0, max=100)],
        description=_l("Leave empty to follow the stage."),
    )
    forecast_category = CodeSelectField(
        L("forecast_category"),
        codes="forecast_category",
        blank=True,
        validators=[Optional()],
        description=_l("Follows the stage; change it only for this deal."),
    )
    opportunity_type = CodeSelectField(
        L("opportunity_type"), codes="opportunity_type", blank=True
    )
    lead_source = CodeSelectField(L("lead_source"), codes="lead_source", blank=True)
    campaign_id = RecordPickerField(L("campaign_id"), module="campaigns")
    owner_id = ColleagueSelectField(L("owner_id"))
    next_step = StringField(L("next_step"), validators=[Optional(), Length(max=255)])
    lost_reason = CodeSelectField(
        L("lost_reason"),
        codes="lost_reason",
        blank=True,
        description=_l("Required when the stage is Closed Lost."),
    )
    lost_to_id = CompetitorSelectField(L("lost_to_id"))
    description = TextAreaField(
        L("description"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))


class MoveForm(RecordForm):
    """The kanban's "Move to…" control (also the keyboard and no-JS path)."""

    stage_id = StageSelectField(_l("Move to"), validators=[InputRequired()])
    lost_reason = CodeSelectField(L("lost_reason"), codes="lost_reason", blank=True)
    lost_to_id = CompetitorSelectField(L("lost_to_id"))
    submit = SubmitField(_l("Move"))


class CloseLostForm(RecordForm):
    lost_reason = CodeSelectField(
        L("lost_reason"),
        codes="lost_reason",
        blank=CHOOSE_CHOICE,
        validators=[InputRequired()],
    )
    lost_to_id = CompetitorSelectField(L("lost_to_id"))
    submit = SubmitField(_l("Close as lost"))


class ReopenForm(RecordForm):
    stage_id = StageSelectField(
        _l("Reopen at stage"), validators=[InputRequired()], open_only=True
    )
    submit = SubmitField(_l("Reopen"))


def LI(field: str):  # noqa: N802
    return label_for(LineItem, field)


class LineItemForm(RecordForm):
    product_id = ProductSelectField(LI("product_id"), validators=[InputRequired()])
    quantity = DecimalField(
        LI("quantity"),
        places=2,
        validators=[
            InputRequired(),
            NumberRange(min=Decimal("0.01"), max=Decimal(10**9)),
        ],
    )
    unit_price = MoneyField(
        LI("unit_price"), description=_l("Leave empty to use the list price.")
    )
    discount = DecimalField(
        LI("discount"),
        places=2,
        default=0,
        validators=[Optional(), NumberRange(min=Decimal(0), max=Decimal(100))],
    )
    submit = SubmitField(_l("Save"))

    def validate_quantity(self, field):
        _two_decimals(field)

    def validate_discount(self, field):
        _two_decimals(field)


def _two_decimals(field) -> None:
    from wtforms.validators import ValidationError

    # Not-a-number and infinity are the range check's to refuse.
    data = field.data
    if data is not None and data.is_finite() and data.as_tuple().exponent < -2:
        raise ValidationError(_("Use at most two decimals."))


def OC(field: str):  # noqa: N802
    return label_for(OpportunityCompetitor, field)


class DealCompetitorForm(RecordForm):
    competitor_id = CompetitorSelectField(
        OC("competitor_id"), validators=[InputRequired()], blank=False
    )
    threat = CodeSelectField(OC("threat"), codes="threat_level", default="medium")
    strengths = TextAreaField(
        OC("strengths"), validators=[Optional(), Length(max=5000)]
    )
    weaknesses = TextAreaField(
        OC("weaknesses"), validators=[Optional(), Length(max=5000)]
    )
    submit = SubmitField(_l("Save"))


class ContactRoleForm(RecordForm):
    contact_id = RecordPickerField(
        label_for(ContactRole, "contact_id"),
        validators=[DataRequired()],
        module="contacts",
    )
    role = CodeSelectField(label_for(ContactRole, "role"), codes="contact_role")
    submit = SubmitField(_l("Add"))
