from flask_wtf.file import FileField
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from sandbox.crm.documents.service import folder_tree
from sandbox.crm.forms import NONE_CHOICE, RecordForm, label_for
from sandbox.extensions import db
from sandbox.forms import Form
from sandbox.i18n import lazy_gettext as _l
from sandbox.models.crm.documents import Document, Folder


def _optional_id(value):
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return -1  # refused by the choices


class FolderSelectField(SelectField):
    """A folder of the tree, indented by depth; blank is the top level."""

    def __init__(self, label=None, validators=None, *, blank=NONE_CHOICE, **kw):
        kw.setdefault("coerce", _optional_id)
        super().__init__(label, validators, **kw)
        self.blank = blank
        self.excluded: set[int] = set()

    def load_choices(self) -> None:
        nodes = folder_tree(db.session)
        self.choices = [(None, str(self.blank))] + [
            (node.folder.id, "\u2003" * node.depth + node.folder.name)
            for node in nodes
            if node.folder.id not in self.excluded
        ]


class UploadForm(RecordForm):
    file = FileField(_l("File"))
    folder_id = FolderSelectField(label_for(Document, "folder_id"))
    description = StringField(
        label_for(Document, "description"), validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("Upload"))


class AttachForm(Form):
    """The upload form of a record page's Attachments panel."""

    file = FileField(_l("File"))
    submit = SubmitField(_l("Attach"))


class DocumentForm(RecordForm):
    name = StringField(
        label_for(Document, "name"), validators=[DataRequired(), Length(max=200)]
    )
    folder_id = FolderSelectField(label_for(Document, "folder_id"))
    description = StringField(
        label_for(Document, "description"), validators=[Optional(), Length(max=500)]
    )
    submit = SubmitField(_l("Save"))


class FolderForm(RecordForm):
    name = StringField(
        label_for(Folder, "name"), validators=[DataRequired(), Length(max=120)]
    )
    parent_id = FolderSelectField(
        label_for(Folder, "parent_id"), blank=_l("— Top level —")
    )
    submit = SubmitField(_l("Save"))

    def exclude(self, folder: Folder) -> None:
        """Leave ``folder`` out of the parents offered (it cannot hold itself)."""
        self.parent_id.excluded = {folder.id}
        self.parent_id.load_choices()
