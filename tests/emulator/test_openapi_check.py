"""The response checker itself: it must reject what the spec does not allow, or the suite proves nothing."""

from __future__ import annotations

import orjson

from tests.emulator.openapi_check import check

VENDOR = {"content-type": "application/vnd.allegro.public.v1+json;charset=UTF-8", "trace-id": "t"}


def _check(method: str, path: str, status: int, body: object, headers: dict[str, str] = VENDOR) -> list[str]:
    return check(method, path, status, headers, orjson.dumps(body))


def test_a_conforming_answer_passes() -> None:
    assert _check("GET", "/sale/offer-events", 200, {"offerEvents": []}) == []


def test_a_body_outside_the_schema_is_reported() -> None:
    problems = _check("GET", "/order/events", 200, {"events": [{"id": "1", "type": "NOT_A_TYPE"}]})
    assert any("is not one of" in problem for problem in problems)
    assert any("'order' is a required property" in problem for problem in problems)


def test_an_undeclared_status_is_reported() -> None:
    problems = _check("GET", "/sale/categories", 409, {"errors": [{"code": "X", "message": "m"}]})
    assert problems and "status not declared" in problems[0]


def test_an_unknown_operation_is_reported() -> None:
    assert "no such operation" in _check("DELETE", "/order/events", 200, {})[0]


def test_401_406_429_are_allowed_anywhere_with_their_shapes() -> None:
    auth = {"content-type": "application/json", "trace-id": "t"}
    assert _check("GET", "/sale/offers", 401, {"error": "invalid_token", "error_description": "d"}, auth) == []
    assert _check("PUT", "/sale/offer-quantity-change-commands/x", 429, {"errors": [{"code": "R"}]}, auth) == []
    assert _check("GET", "/sale/offers", 401, {"errors": [{"code": 1}]}, auth) != []


def test_a_missing_trace_id_is_reported() -> None:
    problems = _check("GET", "/sale/offer-events", 200, {"offerEvents": []}, {"content-type": VENDOR["content-type"]})
    assert problems == ["GET /sale/offer-events -> 200: no trace-id header"]


def test_the_wrong_content_type_is_reported() -> None:
    headers = {"content-type": "application/json", "trace-id": "t"}
    assert "content type" in _check("GET", "/sale/offer-events", 200, {"offerEvents": []}, headers)[0]


def test_an_empty_checkout_form_list_may_count_zero() -> None:
    assert _check("GET", "/order/checkout-forms", 200, {"checkoutForms": [], "count": 0, "totalCount": 0}) == []


def test_oauth_errors_must_use_the_auth_error_shape() -> None:
    plain = {"content-type": "application/json", "trace-id": "t"}
    assert check("POST", "/auth/oauth/token", 400, plain, b'{"error": "invalid_grant"}') == []
    assert check("POST", "/auth/oauth/token", 400, plain, b'{"errors": [{"code": "X"}]}') != []
