"""OAuth on the emulator: device flow, rolling refresh tokens, client credentials and the gateway's 401/406."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from tests.emulator.seller_api import CLIENT, DEVICE_GRANT, VENDOR_TYPE, SellerApi

pytestmark = pytest.mark.anyio


async def _device(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/auth/oauth/device", auth=CLIENT, data={"client_id": CLIENT[0]})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


async def _poll(client: httpx.AsyncClient, device_code: str) -> httpx.Response:
    return await client.post(
        "/auth/oauth/token", auth=CLIENT, data={"grant_type": DEVICE_GRANT, "device_code": device_code}
    )


async def _advance(client: httpx.AsyncClient, seconds: float) -> None:
    assert (await client.post("/__emulator/clock", json={"advance_seconds": seconds})).status_code == 200


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    claims: dict[str, object] = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


async def _offers_status(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/sale/offers", headers={"Authorization": f"Bearer {token}", "Accept": VENDOR_TYPE})


async def test_device_flow_yields_a_token_once_after_approval(emulator_client: httpx.AsyncClient) -> None:
    device = await _device(emulator_client)
    assert device["interval"] == "5" and device["expires_in"] == "3600"
    assert device["verification_uri_complete"].endswith(f"?code={device['user_code']}")
    assert (await _poll(emulator_client, device["device_code"])).json() == {"error": "authorization_pending"}

    approval = await emulator_client.post("/__emulator/device-approvals", json={"user_code": device["user_code"]})
    assert approval.status_code == 200
    await _advance(emulator_client, 5)
    granted = await _poll(emulator_client, device["device_code"])
    assert granted.status_code == 200
    assert granted.json()["expires_in"] == 43199 and granted.json()["token_type"] == "bearer"
    await _advance(emulator_client, 5)
    again = await _poll(emulator_client, device["device_code"])
    assert (again.status_code, again.json()) == (400, {"error": "Invalid device code"})


async def test_polling_faster_than_the_interval_answers_slow_down(emulator_client: httpx.AsyncClient) -> None:
    device = await _device(emulator_client)
    await _poll(emulator_client, device["device_code"])
    second = await _poll(emulator_client, device["device_code"])
    assert (second.status_code, second.json()) == (400, {"error": "slow_down"})


async def test_denied_device_code_answers_access_denied(emulator_client: httpx.AsyncClient) -> None:
    device = await _device(emulator_client)
    denial = await emulator_client.post(
        "/__emulator/device-approvals", json={"user_code": device["user_code"], "approve": False}
    )
    assert denial.json() == {"user_code": device["user_code"], "approved": False}
    response = await _poll(emulator_client, device["device_code"])
    assert (response.status_code, response.json()) == (400, {"error": "access_denied"})


async def test_unknown_device_code_is_invalid(emulator_client: httpx.AsyncClient) -> None:
    response = await _poll(emulator_client, "000000000")
    assert (response.status_code, response.json()) == (400, {"error": "Invalid device code"})


async def test_approving_an_unknown_user_code_is_refused(emulator_client: httpx.AsyncClient) -> None:
    response = await emulator_client.post("/__emulator/device-approvals", json={"user_code": "nosuchcode"})
    assert response.status_code == 422


async def test_device_code_expires_after_an_hour(emulator_client: httpx.AsyncClient) -> None:
    device = await _device(emulator_client)
    await _advance(emulator_client, 3601)
    response = await _poll(emulator_client, device["device_code"])
    assert response.json() == {"error": "Invalid device code"}


async def test_access_token_carries_the_seller_id(seller: SellerApi) -> None:
    claims = _claims(seller.access_token)
    assert claims["user_name"] == "437848322"
    assert claims["client_id"] == "emulator-client"


async def test_token_parameters_are_accepted_in_the_query_string(
    emulator_client: httpx.AsyncClient, seller: SellerApi
) -> None:
    response = await emulator_client.post(
        "/auth/oauth/token", auth=CLIENT, params={"grant_type": "refresh_token", "refresh_token": seller.refresh_token}
    )
    assert response.status_code == 200
    assert response.json()["refresh_token"] != seller.refresh_token


async def test_refresh_invalidates_the_previous_access_token(
    emulator_client: httpx.AsyncClient, seller: SellerApi
) -> None:
    refreshed = await emulator_client.post(
        "/auth/oauth/token", auth=CLIENT, data={"grant_type": "refresh_token", "refresh_token": seller.refresh_token}
    )
    new_access = refreshed.json()["access_token"]
    old = await _offers_status(emulator_client, seller.access_token)
    assert old.status_code == 401
    assert old.json() == {"error": "invalid_token", "error_description": f"Access token expired: {seller.access_token}"}
    assert (await _offers_status(emulator_client, new_access)).status_code == 200


async def test_previous_refresh_token_works_for_60_seconds_then_fails(
    emulator_client: httpx.AsyncClient, seller: SellerApi
) -> None:
    data = {"grant_type": "refresh_token", "refresh_token": seller.refresh_token}
    assert (await emulator_client.post("/auth/oauth/token", auth=CLIENT, data=data)).status_code == 200
    await _advance(emulator_client, 59)
    assert (await emulator_client.post("/auth/oauth/token", auth=CLIENT, data=data)).status_code == 200
    await _advance(emulator_client, 2)
    late = await emulator_client.post("/auth/oauth/token", auth=CLIENT, data=data)
    assert late.status_code == 400
    assert late.json() == {
        "error": "invalid_grant",
        "error_description": f"Invalid refresh token: {seller.refresh_token}",
    }


async def test_refresh_token_expires_after_three_months(emulator_client: httpx.AsyncClient, seller: SellerApi) -> None:
    await _advance(emulator_client, 90 * 24 * 3600 + 1)
    response = await emulator_client.post(
        "/auth/oauth/token", auth=CLIENT, data={"grant_type": "refresh_token", "refresh_token": seller.refresh_token}
    )
    assert response.json()["error"] == "invalid_grant"


async def test_access_token_expires_after_twelve_hours(emulator_client: httpx.AsyncClient, seller: SellerApi) -> None:
    await _advance(emulator_client, 43198)
    assert (await _offers_status(emulator_client, seller.access_token)).status_code == 200
    await _advance(emulator_client, 2)
    expired = await _offers_status(emulator_client, seller.access_token)
    assert expired.status_code == 401 and expired.json()["error"] == "invalid_token"


async def test_missing_token_is_unauthorized(emulator_client: httpx.AsyncClient) -> None:
    response = await emulator_client.get("/sale/offers", headers={"Accept": VENDOR_TYPE})
    assert response.status_code == 401
    assert response.json() == {
        "error": "unauthorized",
        "error_description": "Full authentication is required to access this resource",
    }


async def test_unknown_token_cannot_be_converted(emulator_client: httpx.AsyncClient) -> None:
    response = await _offers_status(emulator_client, "garbage")
    assert response.json() == {"error": "invalid_token", "error_description": "Cannot convert access token to JSON"}


async def test_wrong_accept_header_is_not_acceptable(seller: SellerApi) -> None:
    response = await seller.client.get(
        "/sale/offers", headers={"Authorization": f"Bearer {seller.access_token}", "Accept": "application/json"}
    )
    assert response.status_code == 406
    assert response.json()["errors"][0]["code"] == "NotAcceptableException"


async def test_bad_client_secret_is_rejected(emulator_client: httpx.AsyncClient) -> None:
    response = await emulator_client.post(
        "/auth/oauth/token", auth=("emulator-client", "wrong"), data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 401 and response.json()["error"] == "unauthorized"


async def test_client_credentials_token_reads_categories_but_not_seller_resources(
    emulator_client: httpx.AsyncClient,
) -> None:
    response = await emulator_client.post("/auth/oauth/token", auth=CLIENT, data={"grant_type": "client_credentials"})
    body = response.json()
    assert "refresh_token" not in body and "user_name" not in _claims(body["access_token"])
    headers = {"Authorization": f"Bearer {body['access_token']}", "Accept": VENDOR_TYPE}
    assert (await emulator_client.get("/sale/categories", headers=headers)).status_code == 200
    denied = await emulator_client.get("/sale/offers", headers=headers)
    assert denied.status_code == 403 and denied.json()["errors"][0]["code"] == "AccessDenied"


async def test_authorization_code_is_single_use(emulator_client: httpx.AsyncClient) -> None:
    redirect = await emulator_client.get(
        "/auth/oauth/authorize",
        params={"response_type": "code", "client_id": CLIENT[0], "redirect_uri": "http://localhost/cb", "state": "xyz"},
    )
    assert redirect.status_code == 302
    location = httpx.URL(redirect.headers["location"])
    assert location.params["state"] == "xyz"
    data = {"grant_type": "authorization_code", "code": location.params["code"], "redirect_uri": "http://localhost/cb"}
    assert (await emulator_client.post("/auth/oauth/token", auth=CLIENT, data=data)).status_code == 200
    reuse = await emulator_client.post("/auth/oauth/token", auth=CLIENT, data=data)
    assert (reuse.status_code, reuse.json()["error"]) == (400, "invalid_grant")


async def test_authorization_code_expires_after_ten_seconds(emulator_client: httpx.AsyncClient) -> None:
    redirect = await emulator_client.get(
        "/auth/oauth/authorize",
        params={"response_type": "code", "client_id": CLIENT[0], "redirect_uri": "http://localhost/cb"},
    )
    code = httpx.URL(redirect.headers["location"]).params["code"]
    await _advance(emulator_client, 11)
    response = await emulator_client.post(
        "/auth/oauth/token", auth=CLIENT, data={"grant_type": "authorization_code", "code": code}
    )
    assert response.json()["error"] == "invalid_grant"


async def test_expire_access_tokens_switch_forces_expiry(seller: SellerApi) -> None:
    await seller.faults(expire_access_tokens=True)
    response = await _offers_status(seller.client, seller.access_token)
    assert response.status_code == 401 and response.json()["error_description"].startswith("Access token expired")


async def test_invalidate_refresh_tokens_switch_answers_invalid_grant(seller: SellerApi) -> None:
    await seller.faults(invalidate_refresh_tokens=True)
    response = await seller.client.post(
        "/auth/oauth/token", auth=CLIENT, data={"grant_type": "refresh_token", "refresh_token": seller.refresh_token}
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_polling_a_little_early_within_jitter_is_not_slow_down(emulator_client: httpx.AsyncClient) -> None:
    device = await _device(emulator_client)
    await _poll(emulator_client, device["device_code"])
    await _advance(emulator_client, 4.5)
    response = await _poll(emulator_client, device["device_code"])
    assert response.json() == {"error": "authorization_pending"}


async def test_me_names_the_seller_of_the_token(seller: SellerApi) -> None:
    response = await seller.get("/me")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["baseMarketplace"]) == ("437848322", {"id": "allegro-pl"})


async def _code_login(client: httpx.AsyncClient) -> dict[str, str]:
    redirect = await client.get(
        "/auth/oauth/authorize",
        params={"response_type": "code", "client_id": CLIENT[0], "redirect_uri": "http://localhost/cb"},
    )
    code = httpx.URL(redirect.headers["location"]).params["code"]
    response = await client.post(
        "/auth/oauth/token", auth=CLIENT, data={"grant_type": "authorization_code", "code": code}
    )
    body: dict[str, str] = response.json()
    return body


async def test_a_21st_login_ends_the_oldest_session(emulator_client: httpx.AsyncClient) -> None:
    logins = [await _code_login(emulator_client) for _ in range(21)]
    assert (await _offers_status(emulator_client, logins[0]["access_token"])).status_code == 401
    assert (await _offers_status(emulator_client, logins[1]["access_token"])).status_code == 200
    refused = await emulator_client.post(
        "/auth/oauth/token",
        auth=CLIENT,
        data={"grant_type": "refresh_token", "refresh_token": logins[0]["refresh_token"]},
    )
    assert refused.json()["error"] == "invalid_grant"


async def test_control_api_tokens_do_not_count_as_logins(emulator_client: httpx.AsyncClient) -> None:
    sessions = [await SellerApi.login(emulator_client) for _ in range(21)]
    assert (await _offers_status(emulator_client, sessions[0].access_token)).status_code == 200
