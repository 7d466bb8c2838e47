"""Whatever arrives, the API answers with a 4xx and a JSON error body, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values | st.binary(max_size=64).map(lambda b: b.decode("latin-1")))
def test_random_bodies_never_break_token_creation(org, login, body):
    client = Client(raise_request_exception=False)
    login(client, org.alice)
    payload = body if isinstance(body, str) else json.dumps(body)
    response = client.post("/api/v1/tokens", payload, content_type="application/json")
    assert response.status_code in {201, 400, 422}, response.content
    if response.status_code != 201:
        assert set(response.json()) >= {"code", "message"}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]),
                       min_size=1, max_size=20))
def test_random_ids_and_paths_are_404_or_422(org, login, segment):
    client = Client(raise_request_exception=False)
    login(client, org.alice)
    from urllib.parse import quote

    for path in (f"/api/v1/clients/{quote(segment, safe='')}",
                 f"/api/v1/teams/{quote(segment, safe='')}"):
        response = client.get(path)
        assert response.status_code in {200, 404, 422}, (path, response.status_code)
