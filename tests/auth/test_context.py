"""What the auth middleware learnt about a request (auth/context.py): an
untouched request is anonymous, and requiring a principal refuses it."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from replay_server.auth.context import (
    ANONYMOUS,
    AUTH,
    RequestAuth,
    get_principal,
    request_auth,
    require_principal,
)
from replay_server.db.principal import Principal
from replay_server.errors import Unauthorized


def test_a_request_the_middleware_did_not_see_is_anonymous() -> None:
    request = make_mocked_request("GET", "/")
    assert request_auth(request) is ANONYMOUS
    assert get_principal(request) is None
    with pytest.raises(Unauthorized):
        require_principal(request)


def test_the_principal_the_middleware_found_is_the_requests() -> None:
    principal = Principal(user_id=7, email="jane@example.org", memberships={1: "viewer"})
    request = make_mocked_request("GET", "/")
    request[AUTH] = RequestAuth(principal=principal, bearer=True)
    assert request_auth(request).bearer
    assert get_principal(request) is principal
    assert require_principal(request) is principal
