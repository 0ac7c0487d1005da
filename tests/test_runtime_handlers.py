"""The Lambda handlers: WhatsApp messages and Stripe's webhook, signed locally with a test
secret the way Stripe signs (`t=<unix time>,v1=<HMAC-SHA256 of "t.payload">`)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import pytest

from runtime import handlers, store
from tests import runtime_fixtures as rf
from tests.runtime_fixtures import events, scan
from tests.sources_fixtures import REGION

serial_moto_url, serial_moto = rf.serial_moto_url, rf.serial_moto
SECRET = "whsec_test_secret"
U = "+15550001"


@pytest.fixture
def lambda_env(serial_moto: str, monkeypatch: pytest.MonkeyPatch):
    """The Lambda's environment, pointed at moto; tables created unless a test drops them."""
    prefix = rf.unique_prefix()
    for key, value in {"PROFIT_TABLE_PREFIX": prefix, "PROFIT_ENV": "dev",
                       "PROFIT_DYNAMODB_ENDPOINT": serial_moto, "AWS_REGION": REGION,
                       "STRIPE_WEBHOOK_SECRET": SECRET, "PROFIT_MAX_ATTEMPTS": "2",
                       "WHATSAPP_VERIFY_TOKEN": "verify-me"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(handlers, "_runtime", None)
    rt = handlers.runtime()
    store.create_tables(rt.client, rt.tables)
    return rt


def signed(payload: dict, secret: str = SECRET, at: int | None = None) -> dict:
    body = json.dumps(payload)
    t = at or int(time.time())
    mac = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"body": body, "headers": {"Stripe-Signature": f"t={t},v1={mac}"}}


def payment_intent(pid: str = "pi_1", cents: int = 500, **meta) -> dict:
    return {"id": f"evt_{pid}", "type": "payment_intent.succeeded", "data": {"object": {
        "id": pid, "object": "payment_intent", "amount_received": cents, "currency": "usd",
        "metadata": {"user_phone": U, **meta}}}}


def test_a_signed_payment_credits_its_tokens(lambda_env):
    out = handlers.payment_webhook_handler(signed(payment_intent()))
    assert out["statusCode"] == 200
    # $5.00 = 100 tokens + 20% bonus
    assert json.loads(out["body"]) == {"received": True, "payment_id": "pi_1",
                                       "duplicate": False, "tokens_added": 120}
    assert scan(lambda_env, "tokens")[0]["paid_tokens"] == 120
    item = events(lambda_env, "revenue")[0]
    assert (item["revenue_type"], item["revenue_amount"]) == ("token_purchase", 5)
    assert item["details"]["webhook_event_id"] == "evt_pi_1"


def test_a_retried_webhook_and_the_checkout_event_credit_once(lambda_env):
    handlers.payment_webhook_handler(signed(payment_intent()))
    again = handlers.payment_webhook_handler(signed(payment_intent()))
    session = {"id": "evt_cs", "type": "checkout.session.completed", "data": {"object": {
        "id": "cs_1", "payment_intent": "pi_1", "payment_status": "paid", "amount_total": 500,
        "currency": "usd", "metadata": {"user_phone": U}}}}
    third = handlers.payment_webhook_handler(signed(session))
    assert json.loads(again["body"])["duplicate"] and json.loads(third["body"])["duplicate"]
    assert len(events(lambda_env, "revenue")) == 1
    assert scan(lambda_env, "tokens")[0]["paid_tokens"] == 120


@pytest.mark.parametrize("event", [
    lambda: {**signed(payment_intent()), "headers": {"Stripe-Signature": "t=1,v1=deadbeef"}},
    lambda: signed(payment_intent(), secret="whsec_someone_else"),
    lambda: signed(payment_intent(), at=int(time.time()) - 3600),  # older than 5 minutes
    lambda: {"body": json.dumps(payment_intent()), "headers": {}},
])
def test_a_bad_signature_is_refused_and_credits_nothing(lambda_env, event):
    out = handlers.payment_webhook_handler(event())
    assert out["statusCode"] == 400
    assert scan(lambda_env, "revenue") == [] and scan(lambda_env, "tokens") == []


def test_a_payment_in_another_currency_is_ignored_with_its_reason(lambda_env, caplog):
    evt = payment_intent()
    evt["data"]["object"]["currency"] = "eur"
    with caplog.at_level(logging.ERROR, logger="runtime"):
        out = handlers.payment_webhook_handler(signed(evt))
    assert out["statusCode"] == 200 and "not usd" in json.loads(out["body"])["ignored"]
    assert scan(lambda_env, "revenue") == []


def test_store_down_answers_500_so_stripe_retries_with_one_line_and_no_traceback(
        lambda_env, caplog):
    for name in lambda_env.tables.values():
        lambda_env.client.delete_table(TableName=name)
    with caplog.at_level(logging.INFO, logger="runtime"):
        out = handlers.payment_webhook_handler(signed(payment_intent()))
    assert out["statusCode"] == 500
    assert [r.exc_info for r in caplog.records] == [None]
    assert "not found" in caplog.records[0].getMessage()


def whatsapp(mid: str, text: str, sender: str = "15550001") -> dict:
    return {"httpMethod": "POST", "body": json.dumps({"entry": [{"changes": [{"value": {
        "messages": [{"from": sender, "id": mid, "timestamp": "1772355600", "type": "text",
                      "text": {"body": text}}]}}]}]})}


def test_a_message_is_decided_served_and_its_cost_recorded_once(lambda_env):
    out = handlers.message_handler(whatsapp("wamid.1", "a meal plan please"))
    body = json.loads(out["body"])
    assert out["statusCode"] == 200
    assert body["replies"][0]["action"] == "meal_plan"
    assert body["replies"][0]["enforcement_type"] == "none"
    handlers.message_handler(whatsapp("wamid.1", "a meal plan please"))  # redelivered
    assert [i["event_type"] for i in events(lambda_env, "costs")] == ["meal_plan",
                                                                      "meal_plan_completed"]
    state = scan(lambda_env, "tokens")[0]
    assert (state["token_balance"], state["version"]) == (95, 2)


def test_the_subscription_handshake_echoes_the_challenge(lambda_env):
    ok = handlers.message_handler({"httpMethod": "GET", "queryStringParameters": {
        "hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "42"}})
    bad = handlers.message_handler({"httpMethod": "GET", "queryStringParameters": {
        "hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "42"}})
    assert (ok["statusCode"], ok["body"], bad["statusCode"]) == (200, "42", 403)


def test_a_message_with_the_store_down_fails_closed_with_one_line(lambda_env, caplog):
    for name in lambda_env.tables.values():
        lambda_env.client.delete_table(TableName=name)
    with caplog.at_level(logging.INFO, logger="runtime"):
        out = handlers.message_handler(whatsapp("wamid.2", "hello"))
    reply = json.loads(out["body"])["replies"][0]
    assert out["statusCode"] == 200 and reply["enforcement_type"] == "fail_closed"
    assert len(caplog.records) == 1 and caplog.records[0].exc_info is None


def test_a_malformed_phone_is_refused_and_the_others_answered(lambda_env, caplog):
    out = handlers.message_handler(whatsapp("wamid.3", "hi", sender="abc"))
    assert json.loads(out["body"])["replies"] == []
    assert "not a phone number" in caplog.text


def test_a_click_is_recorded_once_and_redirects_only_to_a_known_partner(lambda_env,
                                                                      monkeypatch):
    monkeypatch.setenv("PROFIT_PARTNER_LINKS", '{"HelloFresh": "https://example.com/hf"}')
    go = {"queryStringParameters": {"partner": "HelloFresh", "user": "15550001", "click": "k1"}}
    first, again = handlers.click_handler(go), handlers.click_handler(go)
    assert (first["statusCode"], first["headers"]["Location"]) == (302, "https://example.com/hf")
    assert again["statusCode"] == 302
    assert [(i["partner"], i["kind"]) for i in events(lambda_env, "affiliate")] == [
        ("HelloFresh", "click")]
    evil = handlers.click_handler({"queryStringParameters": {"partner": "https://evil.test",
                                                            "user": "15550001", "click": "k2"}})
    assert evil["statusCode"] == 404


def test_refused_credentials_at_the_handler_fail_closed_without_a_traceback(lambda_env,
                                                                            caplog):
    from botocore.awsrequest import AWSResponse

    from tests.sources_fixtures import _Raw

    body = json.dumps({"__type": "com.amazon.coral.service#UnrecognizedClientException",
                       "message": "The security token included in the request is invalid."})
    lambda_env.client.meta.events.register(
        "before-send.dynamodb",
        lambda request, **_: AWSResponse(request.url, 400,
                                         {"Content-Type": "application/x-amz-json-1.0"},
                                         _Raw(body.encode())))
    with caplog.at_level(logging.INFO, logger="runtime"):
        out = handlers.message_handler(whatsapp("wamid.9", "hello"))
    assert json.loads(out["body"])["replies"][0]["enforcement_type"] == "fail_closed"
    assert [r.exc_info for r in caplog.records] == [None]
    assert "refused the credentials" in caplog.records[0].getMessage()
