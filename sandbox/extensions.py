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


db = SQLAlchemy(model_class=Base, session_options={"class_": TenantSession})
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
bootstrap = Bootstrap5()
