"""Lessons: TOML files under ``lessons/``, validated whole on load.

A lesson is data (see ``lessons/README.md``): bilingual text, the scenarios it works
with, and steps, each with hints, points and checks. A file that breaks a rule is
reported with the file, the step and the reason, and no lesson is ever half-loaded:
:func:`load_lessons` returns every lesson or raises :class:`LessonError`.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jinja2 import TemplateSyntaxError

from sandbox.labs.render import template_environment
from sandbox.scenarios.spec import data_root

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

LANGS = ("en", "zh")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
STEP_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LESSON_KEYS = frozenset(
    {"id", "title", "intro", "objectives", "scenarios", "minutes", "steps", "order"}
)
STEP_KEYS = frozenset(
    {"id", "title", "instructions", "hints", "points", "checks", "answer_label"}
)
#: Where lessons live when the app does not say otherwise: beside the package in a
#: checkout, under ``<prefix>/share/crm-sandbox`` in an installed copy.
DEFAULT_DIRECTORY = data_root("lessons")


class LessonError(ValueError):
    """One or more lesson files break the format; ``problems`` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class CheckSpec:
    """One check of a step: its kind and its parameters (templates not rendered)."""

    kind: str
    params: Mapping[str, Any]
    #: How much this check counts in the step's score, relative to its siblings.
    weight: float = 1.0


@dataclass(frozen=True)
class Step:
    id: str
    title: Mapping[str, str]
    instructions: Mapping[str, str]
    hints: tuple[Mapping[str, str], ...]
    points: float
    checks: tuple[CheckSpec, ...]
    #: The label of the answer box, for steps whose checks read a typed answer.
    answer_label: Mapping[str, str] | None = None

    @property
    def takes_answer(self) -> bool:
        return any(check.kind == "answer" for check in self.checks)

    def title_in(self, lang: str) -> str:
        return in_language(self.title, lang)


@dataclass(frozen=True)
class Lesson:
    id: str
    title: Mapping[str, str]
    intro: Mapping[str, str]
    objectives: tuple[Mapping[str, str], ...]
    scenarios: tuple[str, ...]
    minutes: int
    steps: tuple[Step, ...]
    #: Where the lesson sits in the course of lessons (the 浙科 order).
    order: int = 0
    path: str = field(default="", compare=False)

    @property
    def total_points(self) -> float:
        return sum(step.points for step in self.steps)

    def title_in(self, lang: str) -> str:
        return in_language(self.title, lang)

    def fits(self, scenario: str) -> bool:
        """Whether a course on ``scenario`` can do the lesson: the lesson names the
        scenario by its id or by one of its aliases (``default`` is
        ``b2b-software``), or names none."""
        if not self.scenarios:
            return True
        from sandbox.scenarios import canonical_id

        wanted = canonical_id(scenario)
        return any(canonical_id(name) == wanted for name in self.scenarios)

    def step(self, step_id: str) -> Step:
        """:raise KeyError: the lesson has no such step."""
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(f"lesson {self.id!r} has no step {step_id!r}")


def in_language(text: Mapping[str, str], lang: str) -> str:
    """``text`` in ``lang`` (``en`` or ``zh``), English when it has no such language."""
    return text.get(lang) or text.get("en", "")


# --------------------------------------------------------------------------- reading


class _Problems:
    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[str] = []

    def add(self, reason: str, step: str | None = None) -> None:
        where = f"{self.file}: step {step}" if step else self.file
        self.items.append(f"{where}: {reason}")


def _bilingual(
    value: Any, name: str, problems: _Problems, step: str | None = None
) -> Mapping[str, str]:
    if not isinstance(value, dict):
        problems.add(f"{name} must be a table with 'en' and 'zh' texts", step)
        return MappingProxyType({})
    texts = {}
    for lang in LANGS:
        text = value.get(lang)
        if not isinstance(text, str) or not text.strip():
            problems.add(f"{name} has no {lang!r} text", step)
        else:
            texts[lang] = text
    extra = set(value) - set(LANGS)
    if extra:
        problems.add(f"{name} has unknown languages {sorted(extra)}", step)
    return MappingProxyType(texts)


def _check_template(text: str, name: str, problems: _Problems, step: str) -> None:
    try:
        template_environment().parse(text)
    except TemplateSyntaxError as error:
        problems.add(f"{name}: template error on line {error.lineno}: {error}", step)


def _templates_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _templates_in(item)]
    if isinstance(value, list):
        return [t for item in value for t in _templates_in(item)]
    return []


def _read_check(
    raw: Any, index: int, problems: _Problems, step: str
) -> CheckSpec | None:
    from sandbox.labs.checks import CHECKS

    name = f"check {index + 1}"
    if not isinstance(raw, dict):
        problems.add(f"{name} must be a table", step)
        return None
    params = dict(raw)
    kind = params.pop("kind", None)
    weight = params.pop("weight", 1)
    if not isinstance(kind, str) or kind not in CHECKS:
        known = ", ".join(sorted(CHECKS))
        problems.add(f"{name} has unknown kind {kind!r}; known kinds: {known}", step)
        return None
    if not isinstance(weight, (int, float)) or isinstance(weight, bool) or weight <= 0:
        problems.add(f"{name} ({kind}): weight must be a positive number", step)
        return None
    for reason in CHECKS[kind].validate(params):
        problems.add(f"{name} ({kind}): {reason}", step)
    for text in _templates_in(params):
        _check_template(text, f"{name} ({kind})", problems, step)
    return CheckSpec(kind, MappingProxyType(params), float(weight))


def _read_step(raw: Any, index: int, problems: _Problems) -> Step | None:
    if not isinstance(raw, dict):
        problems.add(f"step {index + 1} must be a table")
        return None
    step_id = raw.get("id")
    if not isinstance(step_id, str) or not STEP_ID_PATTERN.match(step_id):
        problems.add(
            "id must be lower-case letters, digits and '_' (starting with a letter)",
            step=str(index + 1) if not isinstance(step_id, str) else step_id,
        )
        return None
    before = len(problems.items)
    unknown = set(raw) - STEP_KEYS
    if unknown:
        problems.add(f"unknown keys {sorted(unknown)}", step_id)
    title = _bilingual(raw.get("title"), "title", problems, step_id)
    instructions = _bilingual(
        raw.get("instructions"), "instructions", problems, step_id
    )
    for lang, text in instructions.items():
        _check_template(text, f"instructions ({lang})", problems, step_id)
    raw_hints = raw.get("hints", [])
    if not isinstance(raw_hints, list):
        problems.add("hints must be a list of tables with 'en' and 'zh'", step_id)
        raw_hints = []
    hints = tuple(
        _bilingual(hint, f"hint {i + 1}", problems, step_id)
        for i, hint in enumerate(raw_hints)
    )
    points = raw.get("points")
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        problems.add("points must be a positive number", step_id)
        points = 0
    raw_checks = raw.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        problems.add("a step needs at least one check", step_id)
        raw_checks = []
    checks = tuple(
        check
        for i, item in enumerate(raw_checks)
        if (check := _read_check(item, i, problems, step_id)) is not None
    )
    answer_label = None
    if any(check.kind == "answer" for check in checks):
        answer_label = _bilingual(
            raw.get("answer_label"), "answer_label", problems, step_id
        )
    elif "answer_label" in raw:
        problems.add("answer_label is only for steps with an answer check", step_id)
    if len(problems.items) > before:
        return None
    return Step(
        id=step_id,
        title=title,
        instructions=instructions,
        hints=hints,
        points=float(points),
        checks=checks,
        answer_label=answer_label,
    )


def parse_lesson(data: Mapping[str, Any], file: str) -> Lesson:
    """A lesson from parsed TOML; :raise LessonError: listing every problem."""
    from sandbox.scenarios import SCENARIOS

    problems = _Problems(file)
    lesson_id = data.get("id")
    if not isinstance(lesson_id, str) or not ID_PATTERN.match(lesson_id):
        problems.add("id must be lower-case letters, digits, '-' and '_'")
    elif Path(file).name.removesuffix(".toml") != lesson_id:
        problems.add(f"id {lesson_id!r} must match the file name {Path(file).name!r}")
    unknown = set(data) - LESSON_KEYS
    if unknown:
        problems.add(f"unknown keys {sorted(unknown)}")
    title = _bilingual(data.get("title"), "title", problems)
    intro = _bilingual(data.get("intro"), "intro", problems)
    raw_objectives = data.get("objectives", [])
    if not isinstance(raw_objectives, list):
        problems.add("objectives must be a list of tables with 'en' and 'zh'")
        raw_objectives = []
    objectives = tuple(
        _bilingual(item, f"objective {i + 1}", problems)
        for i, item in enumerate(raw_objectives)
    )
    scenarios = data.get("scenarios")
    if (
        not isinstance(scenarios, list)
        or not scenarios
        or not all(isinstance(s, str) for s in scenarios)
    ):
        problems.add("scenarios must list at least one scenario name")
        scenarios = []
    for name in scenarios:
        if name not in SCENARIOS:
            known = ", ".join(sorted(SCENARIOS))
            problems.add(f"unknown scenario {name!r}; known scenarios: {known}")
    minutes = data.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        problems.add("minutes must be a positive whole number")
        minutes = 0
    order = data.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        problems.add("order must be a whole number")
        order = 0
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        problems.add("a lesson needs at least one [[steps]] table")
        raw_steps = []
    steps = [_read_step(item, i, problems) for i, item in enumerate(raw_steps)]
    ids = [item.get("id") for item in raw_steps if isinstance(item, dict)]
    ids = [step_id for step_id in ids if isinstance(step_id, str)]
    for step_id in {i for i in ids if ids.count(i) > 1}:
        problems.add("the step id is used twice", step_id)
    if problems.items:
        raise LessonError(problems.items)
    return Lesson(
        id=lesson_id,
        title=title,
        intro=intro,
        objectives=objectives,
        scenarios=tuple(scenarios),
        minutes=minutes,
        steps=tuple(step for step in steps if step is not None),
        order=order,
        path=file,
    )


def load_lesson_file(path: str | Path) -> Lesson:
    """Read and validate one lesson file; :raise LessonError: on any problem."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise LessonError([f"{path}: cannot be read: {error.strerror}"]) from error
    except UnicodeDecodeError as error:
        raise LessonError([f"{path}: is not UTF-8 text"]) from error
    except tomllib.TOMLDecodeError as error:
        raise LessonError([f"{path}: is not valid TOML: {error}"]) from error
    return parse_lesson(data, str(path))


# --------------------------------------------------------------------------- catalogue

_cache: dict[str, tuple[tuple, dict[str, Lesson]]] = {}
_cache_lock = threading.Lock()


def lessons_directory() -> Path:
    """The lessons folder: the app's ``LESSONS_DIR`` if set, else ``lessons/``."""
    from flask import current_app, has_app_context

    if has_app_context() and current_app.config.get("LESSONS_DIR"):
        return Path(current_app.config["LESSONS_DIR"])
    return DEFAULT_DIRECTORY


def _signature(files: list[Path]) -> tuple:
    signature = []
    for file in files:
        stat = file.stat()
        signature.append((file.name, stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def load_lessons(directory: str | Path | None = None) -> dict[str, Lesson]:
    """Every lesson in ``directory``, by id, in lesson order (cached until a file
    changes).

    :raise LessonError: any file is invalid; its problems (file, step, reason) are
        all listed and no lesson is returned.
    """
    folder = Path(directory) if directory is not None else lessons_directory()
    files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
    signature = _signature(files)
    key = str(folder.resolve())
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
    problems: list[str] = []
    loaded: list[Lesson] = []
    for file in files:
        try:
            loaded.append(load_lesson_file(file))
        except LessonError as error:
            problems.extend(error.problems)
    if problems:
        raise LessonError(problems)
    loaded.sort(key=lambda lesson: (lesson.order, lesson.id))
    lessons = {lesson.id: lesson for lesson in loaded}
    with _cache_lock:
        _cache[key] = (signature, lessons)
    return lessons


def get_lesson(lesson_id: str, directory: str | Path | None = None) -> Lesson:
    """:raise KeyError: no lesson has that id; the message lists the known ids."""
    lessons = load_lessons(directory)
    try:
        return lessons[lesson_id]
    except KeyError:
        known = ", ".join(lessons) or "none"
        raise KeyError(
            f"unknown lesson {lesson_id!r}; known lessons: {known}"
        ) from None


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
