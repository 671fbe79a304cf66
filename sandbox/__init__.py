"""CRM Sandbox: a classroom CRM lab where every student works in a CRM of their own."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from sandbox import config as sandbox_config
from sandbox.files import ensure_private_file, make_private_dir

__version__ = "0.1.0"


def create_app(test_config: dict | None = None) -> Flask:
    """Create the app: defaults, ``instance/config.py``, ``SANDBOX_*``, then tests."""
    instance = Path(
        (test_config or {}).get("INSTANCE_PATH")
        or sandbox_config.default_instance_path()
    )
    try:
        make_private_dir(instance)
    except OSError as error:
        reason = error.strerror or str(error)
        raise sandbox_config.ConfigError(
            f"the instance folder {instance} cannot be used: {reason}"
        ) from None
    # The control database is created private before SQLite first opens it (SQLite
    # gives its -wal and -shm files the database's permissions).
    ensure_private_file(instance / "sandbox.db")
    app = Flask(__name__, instance_path=str(instance), instance_relative_config=True)
    app.config.from_mapping(sandbox_config.defaults(instance))
    app.config.from_pyfile("config.py", silent=True)
    sandbox_config.from_environment(app.config)
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = sandbox_config.ensure_secret_key(instance)

    register_extensions(app)
    register_url_converters(app)
    register_blueprints(app)
    register_cli(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    from sandbox import assets, forms, i18n, tenancy
    from sandbox.extensions import bootstrap, csrf, db, login_manager

    forms.install_html_params()
    db.init_app(app)
    with app.app_context():
        sa.event.listen(db.engine, "connect", _control_pragmas)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = i18n.lazy_gettext("Please log in to open this page.")
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    i18n.init_app(app)
    bootstrap.init_app(app)
    assets.init_app(app)
    tenancy.init_app(app)


def _control_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def register_url_converters(app: Flask) -> None:
    from sandbox.routing import RecordIdConverter

    app.url_map.converters["id"] = RecordIdConverter


def register_blueprints(app: Flask) -> None:
    from sandbox import crm
    from sandbox.admin import bp as admin_bp
    from sandbox.auth import bp as auth_bp
    from sandbox.instructor import bp as instructor_bp
    from sandbox.labs import bp as labs_bp
    from sandbox.main import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(instructor_bp, url_prefix="/instructor")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(labs_bp, url_prefix="/labs")
    crm.register(app)


def register_cli(app: Flask) -> None:
    from sandbox.cli import register_commands

    register_commands(app)


def register_error_handlers(app: Flask) -> None:
    from sandbox.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from sandbox import templating

    templating.init_app(app)


def register_request_hooks(app: Flask) -> None:
    from sandbox import security

    security.init_app(app)
