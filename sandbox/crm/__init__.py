"""The CRM a student works in: one package per module, on the tenant database.

Nothing here knows about lessons or grading. Every subpackage of ``sandbox.crm`` is a
module that registers itself (see :mod:`sandbox.crm.registry`); the app finds them
all, so adding a module never means editing a list here.
"""

from __future__ import annotations

import importlib
import pkgutil

from flask import Flask

from sandbox.crm.registry import app_modules, modules, navigation


def discover() -> None:
    """Import every module package below ``sandbox.crm`` (each registers itself)."""
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            importlib.import_module(f"{__name__}.{info.name}")


def register(app: Flask) -> None:
    from sandbox.crm import search
    from sandbox.crm.display import join_address, join_list, labelled, with_note

    discover()
    for module in modules():
        app.register_blueprint(module.blueprint, url_prefix=module.url_prefix)
    app.register_blueprint(search.bp, url_prefix="/crm")
    app.jinja_env.globals.update(
        crm_navigation=navigation,
        crm_modules=app_modules,
        labelled=labelled,
        with_note=with_note,
        join_list=join_list,
        join_address=join_address,
    )
