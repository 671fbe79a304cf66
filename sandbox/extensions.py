"""Flask extensions, created unbound and initialised in the app factory."""

from flask_babel import Babel
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from sandbox.tenancy import TenantSession


class Base(DeclarativeBase):
    """Declarative base shared by control and tenant models."""


# expire_on_commit=False: what a view shows after saving (the new id for the
# redirect, the name for the message) is what it saved, never re-read from a tenant
# file that a reset may have swapped in the meantime.
db = SQLAlchemy(
    model_class=Base,
    session_options={"class_": TenantSession, "expire_on_commit": False},
)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
