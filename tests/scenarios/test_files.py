"""Broken scenario files are refused with a clear message; nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.scenarios import spec

GOOD = Path(spec.scenario_dir(), "b2b-software.toml").read_text(encoding="utf-8")


def write(folder: Path, text: str, name: str = "b2b-software.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_scenarios_load():
    scenarios = spec.all_scenarios()
    assert {s.id for s in scenarios.values()} == {
        "b2b-software",
        "telecom-service",
        "precision-moulds",
    }
    assert scenarios["default"].id == "b2b-software"
    assert scenarios["default-zh"].id == "telecom-service"


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path, app_for_models):
    broken = GOOD.replace('currency = "USD"', 'currency = "USD', 1)
    line = broken.splitlines().index('currency = "USD') + 1
    path = write(tmp_path, broken)
    with pytest.raises(spec.ScenarioError) as error:
        spec.load_file(path)
    message = str(error.value)
    assert message.startswith(f"{path}: line {line}")
    assert "TOML syntax error" in message


def test_an_unknown_field_names_the_file_and_the_field(tmp_path, app_for_models):
    path = write(tmp_path, GOOD.replace("leads = 40", "leeds = 40", 1))
    with pytest.raises(spec.ScenarioError) as error:
        spec.load_file(path)
    assert str(error.value).startswith(f"{path}: ")
    assert "unknown field 'volumes.leeds'" in str(error.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('locale = "en_US"', 'locale = "fr_FR"'), "locale must be one of"),
        (('timezone = "UTC"', 'timezone = "Mars/Olympus"'), "unknown time zone"),
        (("leads = 40", 'leads = "forty"'), "volumes.leads must be a whole number"),
        (("[facts.hot_lead]", "[facts.hot_leed]"), "unknown kind 'hot_leed'"),
        (("idle_days = 45", "idle_dayz = 45"), "facts.stalled_deal: unknown field"),
        (
            ('lead_source = ["webinar"]', 'lead_source = ["carrier_pigeon"]'),
            "unknown code",
        ),
        (('catalogue = "b2b_software"', 'catalogue = "nothing"'), "unknown catalogue"),
        (("\nself = true", "\nself = false"), "exactly one team member"),
        (('id = "b2b-software"', 'id = "other"'), "differs from the file name"),
        (
            (
                "contract_auto_approve_discount = 10",
                "contract_auto_approve_discount = 30",
            ),
            "contract_auto_approve_discount ≤ contract_manager_max_discount",
        ),
        (
            ("contract_renewal_days = 30", "contract_renewal_days = 0"),
            "contract_renewal_days must be between 1 and 365",
        ),
    ],
)
def test_wrong_values_are_named(tmp_path, app_for_models, change, message):
    old, new = change
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(spec.ScenarioError, match=message) as error:
        spec.load_file(path)
    assert str(error.value).startswith(f"{path}: ")


def test_the_cli_reports_a_broken_file_and_writes_nothing(tmp_path, app_for_models):
    path = write(tmp_path, GOOD.replace("leads = 40", "leeds = 40", 1))
    out = tmp_path / "out.sqlite"
    runner = app_for_models.test_cli_runner()
    result = runner.invoke(
        args=["scenario", "build", str(path), "--seed", "1", "--out", str(out)]
    )
    assert result.exit_code != 0
    assert str(path) in result.output and "leeds" in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]
    broken = write(tmp_path, GOOD.replace("[volumes]", "[volumes", 1))
    result = runner.invoke(args=["scenario", "preview", str(broken)])
    assert (
        result.exit_code != 0
        and "line" in result.output
        and str(broken) in (result.output)
    )


def test_a_broken_file_in_the_scenario_folder_stops_the_list(
    tmp_path, monkeypatch, app_for_models
):
    for name in ("b2b-software.toml", "telecom-service.toml"):
        text = Path(spec.scenario_dir(), name).read_text(encoding="utf-8")
        write(tmp_path, text, name)
    write(tmp_path, "id = [", "precision-moulds.toml")
    monkeypatch.setattr(spec, "scenario_dir", lambda: tmp_path)
    runner = app_for_models.test_cli_runner()
    result = runner.invoke(args=["scenario", "list"])
    assert result.exit_code != 0
    assert "precision-moulds.toml: line 1" in result.output


def test_a_failed_build_leaves_no_file(tmp_path, monkeypatch, app_for_models):
    from sandbox.scenarios import builder

    def explode(conn, tables):
        raise RuntimeError("disk full")

    monkeypatch.setattr(builder, "write_rows", explode)
    out = tmp_path / "x.sqlite"
    with pytest.raises(RuntimeError):
        builder.build_scenario(out, "b2b-software", 1)
    assert list(tmp_path.iterdir()) == []
