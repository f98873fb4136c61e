"""schemathesis against the OpenAPI schema: every generated request gets an answer that is not a server
error and that conforms to the schema (status code, content type, body)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth, negative_data_rejection, positive_data_acceptance

from config.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture
def in_test_transaction():
    """Keep the test's database connection open across WSGI calls, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_without_a_server_error(case, demo, in_test_transaction):
    # schemathesis asks for gzip but its WSGI transport does not undo it; compression is tested in test_edge.
    response = case.call(headers={"Accept-Encoding": "identity"})
    assert response.status_code < 500, (case.path, case.query, response.text[:500])
    # The list is public by design: a login only adds the numbers for authorities, so a request without
    # valid authentication rightly gets 200. Every other check (status codes, content types, bodies) runs.
    # Like the page's GET form, the API reads a repeated filter parameter as its last value rather than
    # refusing it, so schemathesis' check that schema-violating requests are refused is left out too.
    # The schema types office, county and page as plain strings and integers while the API answers an
    # unknown office or a page past the end with a documented 400/404, so "every schema-valid request
    # gets 2xx" does not hold by design either.
    lenient = [ignored_auth, negative_data_rejection, positive_data_acceptance]
    case.validate_response(response, excluded_checks=lenient)
