"""Redirect targets: control characters in ?next= never reach a Location header."""

from __future__ import annotations

import pytest

from tests.helpers import PASSWORD

UNSAFE_TARGETS = (
    "/crm/accounts/\r\nSet-Cookie: stolen=1",
    "/\nx",
    "/ok\rthen",
    "/\x00",
    "/\t/evil.example",
)


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_login_next_with_control_characters_goes_home(client, classroom, target):
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"username": "alice", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"
    assert "stolen" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize("target", UNSAFE_TARGETS)
def test_language_switch_next_with_control_characters_goes_home(client, target):
    response = client.post("/language", data={"language": "zh", "next": target})
    assert response.status_code == 302
    assert response.location == "/"
