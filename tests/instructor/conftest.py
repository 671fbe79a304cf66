"""The instructor tests grade two small lessons of their own."""

from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parent / "lessons"


@pytest.fixture(autouse=True)
def test_lessons(app):
    app.config["LESSONS_DIR"] = str(LESSONS)
    return LESSONS
