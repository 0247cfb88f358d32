"""The blocking ``Client`` against the real ``countersign serve``: every outcome and error."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import Later, Stack, free_port

from countersign import (
    ApiError,
    ApprovalStatus,
    Cancelled,
    Client,
    Completed,
    Denied,
    ExecutionFailed,
    Expired,
    FailureReason,
    InvalidRequest,
    PendingApproval,
    PolicyDenied,
    Timeout,
    TransportError,
)

REFUND = {"order": "A-1042", "amount": 1999, "currency": "EUR"}
REASON = "Customer #8812 was charged twice for order A-1042; refund the duplicate EUR 19.99"


def ask_refund(client: Client, grant: str = "payments") -> PendingApproval:
    outcome = client.proxy_request(grant, "POST", "/v1/refunds", json=REFUND, reason=REASON)
    assert isinstance(outcome, PendingApproval), outcome
    return outcome


def test_a_read_the_policy_allows_runs_at_once(client: Client, stack: Stack) -> None:
    outcome = client.proxy_request(
        "payments", "GET", "/v1/balance", query={"b": "2", "a": "1"}, reason="show the balance"
    )
    assert isinstance(outcome, Completed)
    assert outcome.status == 200
    assert outcome.json()["available"][0] == {"amount": 125_000, "currency": "EUR"}
    assert outcome.header("Content-Type") == "application/json"
    assert not outcome.truncated
    calls = stack.provider.calls_with_key(outcome.approval_id)
    assert [(c["method"], c["uri"]) for c in calls] == [("GET", "/v1/balance?a=1&b=2")]
    view = client.approval(outcome.approval_id)
    assert view.status is ApprovalStatus.SUCCEEDED
    assert view.decisions == ()
    assert [(m.policy, m.rule, m.action) for m in view.matched] == [("refunds", "reads", "allow")]


def test_a_gated_call_waits_for_the_signed_approval_then_runs_once(
    client: Client, stack: Stack
) -> None:
    pending = ask_refund(client)
    assert pending.approval_url.startswith("countersign://approval")
    assert pending.approval_id in pending.approval_url
    assert 3500 < pending.expires_in() <= 3600
    assert stack.provider.calls_with_key(pending.approval_id) == []
    view = pending.status()
    assert view.status is ApprovalStatus.PENDING
    assert [(m.rule, m.action) for m in view.matched] == [("refunds-need-a-lead", "require")]

    approver = Later(0.5, lambda: stack.approve(pending.approval_id, comment="duplicate, ok"))
    started = time.monotonic()
    result = pending.wait(30)
    approver.join()
    assert time.monotonic() - started < 20
    assert result.approval_id == pending.approval_id
    assert result.status == 200
    refund = result.json()
    assert refund["amount"] == 1999
    assert refund["idempotency_key"] == pending.approval_id
    calls = stack.provider.calls_with_key(pending.approval_id)
    assert len(calls) == 1
    assert json.loads(calls[0]["body"]) == REFUND

    view = client.approval(pending.approval_id)
    assert view.status is ApprovalStatus.SUCCEEDED
    assert [(d.approver_id, d.decision, d.comment) for d in view.decisions] == [
        ("alice", "approve", "duplicate, ok")
    ]
    assert view.response == result
    # Waiting again on a finished approval answers the same result at once.
    assert client.wait(pending.approval_id, 5) == result


def test_a_provider_4xx_is_a_result(client: Client, stack: Stack) -> None:
    outcome = client.proxy_request(
        "payments",
        "POST",
        "/v1/refunds",
        body=b"not json",
        headers={"Content-Type": "text/plain"},
        reason="send a body the provider refuses",
    )
    assert isinstance(outcome, PendingApproval)
    stack.approve(outcome.approval_id)
    result = outcome.wait(30)
    assert result.status == 400
    assert result.json()["error"]["message"] == "body is not JSON"
    assert stack.provider.calls_with_key(outcome.approval_id)[0]["body"] == "not json"


def test_denied_carries_the_approver_the_comment_and_the_rule(client: Client, stack: Stack) -> None:
    pending = ask_refund(client)
    denier = Later(0.3, lambda: stack.deny(pending.approval_id, "bob", "not this customer"))
    with pytest.raises(Denied) as denied:
        pending.wait(30)
    denier.join()
    assert denied.value.approval_id == pending.approval_id
    assert denied.value.approver == "bob"
    assert denied.value.comment == "not this customer"
    assert denied.value.rule == "refunds-need-a-lead"
    assert "denied by bob: not this customer" in str(denied.value)
    assert stack.provider.calls_with_key(pending.approval_id) == []


def test_denied_under_the_policys_default_names_no_rule(client: Client, stack: Stack) -> None:
    outcome = client.proxy_request(
        "payments", "PUT", "/v1/customers/c_1", json={"vip": True}, reason="make c_1 a VIP"
    )
    assert isinstance(outcome, PendingApproval)
    stack.deny(outcome.approval_id)
    with pytest.raises(Denied) as denied:
        client.wait(outcome.approval_id, 30)
    assert denied.value.rule is None
    assert denied.value.approver == "alice"
    assert denied.value.comment is None


def test_an_approval_nobody_decides_expires(client: Client, stack: Stack) -> None:
    pending = ask_refund(client, grant="quick")
    assert pending.expires_in() <= 2
    started = time.monotonic()
    with pytest.raises(Expired) as expired:
        pending.wait(30)
    assert expired.value.approval_id == pending.approval_id
    assert time.monotonic() - started < 10
    assert client.approval(pending.approval_id).status is ApprovalStatus.EXPIRED
    assert stack.provider.calls_with_key(pending.approval_id) == []


def test_a_local_timeout_leaves_the_approval_pending_and_it_can_be_resumed(
    client: Client, stack: Stack
) -> None:
    pending = ask_refund(client)
    started = time.monotonic()
    with pytest.raises(Timeout) as timed_out:
        pending.wait(timedelta(seconds=1.5))
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 5, elapsed
    assert timed_out.value.approval_id == pending.approval_id
    assert timed_out.value.is_timeout()
    assert client.approval(pending.approval_id).status is ApprovalStatus.PENDING
    assert pending.approval_id in stack.pending()

    stack.approve(pending.approval_id)
    assert client.wait(uuid.UUID(pending.approval_id), 30).status == 200


def test_cancel_withdraws_a_pending_request(client: Client, stack: Stack) -> None:
    pending = ask_refund(client)
    view = pending.cancel()
    assert view.status is ApprovalStatus.CANCELLED
    with pytest.raises(Cancelled) as cancelled:
        pending.wait(10)
    assert cancelled.value.approval_id == pending.approval_id
    with pytest.raises(ApiError) as again:
        client.cancel(pending.approval_id)
    assert (again.value.status, again.value.code) == (409, "not_pending")
    assert stack.provider.calls_with_key(pending.approval_id) == []


def test_a_cancel_ends_a_wait_in_progress(client: Client, stack: Stack) -> None:
    pending = ask_refund(client)
    with Client(stack.url, stack.api_key) as other:
        canceller = Later(0.5, lambda: other.cancel(pending.approval_id))
        started = time.monotonic()
        with pytest.raises(Cancelled):
            pending.wait(30)
        canceller.join()
    assert time.monotonic() - started < 10


def test_a_provider_error_on_a_free_call_is_raised_by_proxy_request(
    client: Client, stack: Stack
) -> None:
    with pytest.raises(ExecutionFailed) as failed:
        client.proxy_request("flaky", "GET", "/v1/balance", reason="show the balance")
    e = failed.value
    assert e.reason is FailureReason.PROVIDER_ERROR
    assert e.status == 502
    assert e.body is not None
    assert json.loads(e.body)["error"]["message"] == "the provider failed"
    assert len(stack.failing.calls_with_key(e.approval_id)) == 1


def test_an_approved_call_the_provider_fails_is_execution_failed(
    client: Client, stack: Stack
) -> None:
    pending = ask_refund(client, grant="flaky")
    stack.approve(pending.approval_id)
    with pytest.raises(ExecutionFailed) as failed:
        pending.wait(30)
    assert failed.value.reason is FailureReason.PROVIDER_ERROR
    assert failed.value.status == 502
    assert failed.value.approval_id == pending.approval_id
    assert len(stack.failing.calls_with_key(pending.approval_id)) == 1
    view = client.approval(pending.approval_id)
    assert view.status is ApprovalStatus.EXECUTION_FAILED
    assert view.failure is not None
    assert view.failure.status == 502


def test_an_unreachable_provider_is_a_transport_failure(client: Client) -> None:
    with pytest.raises(ExecutionFailed) as failed:
        client.proxy_request("offline", "GET", "/v1/balance", reason="show the balance")
    assert failed.value.reason is FailureReason.TRANSPORT
    assert failed.value.status is None
    assert failed.value.body is None


def test_a_provider_that_never_answers_is_a_timeout_failure(client: Client, stack: Stack) -> None:
    pending = ask_refund(client, grant="hanging")
    stack.approve(pending.approval_id)
    with pytest.raises(ExecutionFailed) as failed:
        pending.wait(30)
    assert failed.value.reason is FailureReason.TIMEOUT
    assert len(stack.hanging.calls_with_key(pending.approval_id)) == 1


def test_a_deny_rule_refuses_at_once_and_nothing_is_sent(client: Client, stack: Stack) -> None:
    before = len(stack.provider.calls())
    with pytest.raises(PolicyDenied) as refused:
        client.proxy_request("payments", "DELETE", "/v1/refunds/re_1", reason="clean up")
    assert refused.value.rule == "no-deletes"
    assert "no-deletes" in refused.value.message
    assert not [c for c in stack.provider.calls()[before:] if c["method"] == "DELETE"]


def test_a_wrong_api_key_is_refused_with_its_code_everywhere(stack: Stack) -> None:
    some_id = str(uuid.uuid4())
    with Client(stack.url, "cs_wrong_key") as wrong:
        with pytest.raises(ApiError) as refused:
            wrong.proxy_request("payments", "GET", "/v1/balance", reason="show the balance")
        assert (refused.value.status, refused.value.code) == (401, "unauthorized")
        with pytest.raises(ApiError) as read:
            wrong.approval(some_id)
        assert read.value.code == "unauthorized"
        started = time.monotonic()
        with pytest.raises(ApiError) as waited:
            wrong.wait(some_id, 30)
        assert waited.value.code == "unauthorized"
        assert time.monotonic() - started < 5, "a refusal is not waited out"


@pytest.mark.parametrize(
    ("grant", "method", "path", "headers", "status", "code"),
    [
        ("nope", "GET", "/v1/balance", None, 404, "unknown_grant"),
        ("payments", "GET", "/v1//balance", None, 422, "invalid_path"),
        ("payments", "GET", "/v1/balance", {"Authorization": "Bearer x"}, 422, "forbidden_header"),
        ("payments", "TRACE", "/v1/balance", None, 422, "invalid_method"),
    ],
)
def test_refusals_carry_the_services_code(
    client: Client,
    grant: str,
    method: str,
    path: str,
    headers: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    with pytest.raises(ApiError) as refused:
        client.proxy_request(grant, method, path, headers=headers, reason="try it")
    assert (refused.value.status, refused.value.code) == (status, code)
    assert refused.value.message


def test_an_app_cannot_use_another_grant_or_see_another_apps_approval(
    client: Client, stack: Stack
) -> None:
    pending = ask_refund(client)
    with Client(stack.url, stack.other_api_key) as other:
        with pytest.raises(ApiError) as not_allowed:
            other.proxy_request("quick", "GET", "/v1/balance", reason="show the balance")
        assert (not_allowed.value.status, not_allowed.value.code) == (403, "grant_not_allowed")
        for attempt in (other.approval, other.cancel):
            with pytest.raises(ApiError) as hidden:
                attempt(pending.approval_id)
            assert (hidden.value.status, hidden.value.code) == (404, "approval_not_found")
        with pytest.raises(ApiError):
            other.wait(pending.approval_id, 10)
    assert client.approval(pending.approval_id).status is ApprovalStatus.PENDING
    pending.cancel()


def test_an_unreachable_service_is_a_transport_error_for_requests_and_a_timeout_for_waits() -> None:
    port = free_port()
    with Client(f"http://127.0.0.1:{port}", "cs_key") as nowhere:
        with pytest.raises(TransportError):
            nowhere.proxy_request("payments", "GET", "/v1/balance", reason="show the balance")
        approval_id = str(uuid.uuid4())
        started = time.monotonic()
        with pytest.raises(Timeout) as timed_out:
            nowhere.wait(approval_id, 2)
        assert timed_out.value.approval_id == approval_id
        assert 2 <= time.monotonic() - started < 6


def test_mistakes_are_refused_before_anything_is_sent(client: Client) -> None:
    bad: list[dict[str, object]] = [
        {"reason": "  "},
        {"method": "GE T"},
        {"path": "v1/balance"},
        {"path": "/v1/bal\nance"},
        {"grant": ""},
        {"headers": {"bad name": "x"}},
        {"headers": {"x-ok": "a\r\nb: c"}},
        {"json": {"a": 1}, "body": b"x"},
        {"json": {"a": float("nan")}},
    ]
    for change in bad:
        args: dict[str, object] = {
            "grant": "payments",
            "method": "GET",
            "path": "/v1/balance",
            "reason": "show the balance",
            **change,
        }
        with pytest.raises(InvalidRequest):
            client.proxy_request(**args)  # type: ignore[arg-type]
    for not_an_id in ("../v1/proxy", "", "1234"):
        with pytest.raises(InvalidRequest):
            client.approval(not_an_id)
    for url in ("", "127.0.0.1:1", "ftp://h", "https://u:p@h", "https://h/?x=1", "https://h/#f"):
        with pytest.raises(InvalidRequest):
            Client(url, "k")
    with pytest.raises(InvalidRequest):
        Client("http://127.0.0.1:1", " ")
    with pytest.raises(InvalidRequest):
        Client("http://127.0.0.1:1", "a\nb")


def test_the_key_is_never_shown() -> None:
    with Client("http://localhost:8080/prefix", "cs_secret_value") as c:
        assert "cs_secret_value" not in repr(c)
        assert "<redacted>" in repr(c)
        assert c.base_url == "http://localhost:8080/prefix/"


WORKER = """
import json, sys
from countersign import Client, Timeout
with Client(sys.argv[1], sys.argv[2]) as client:
    try:
        result = client.wait(open(sys.argv[3]).read().strip(), float(sys.argv[4]))
        print(json.dumps({"status": result.status, "body": result.json()}))
    except Timeout as e:
        print(json.dumps({"timeout": e.approval_id}))
"""


def run_worker(stack: Stack, job: Path, timeout: float) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, stack.url, stack.api_key, str(job), str(timeout)],
        capture_output=True,
        timeout=timeout + 30,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_a_worker_process_resumes_a_persisted_approval_by_id(
    client: Client, stack: Stack, tmp_path: Path
) -> None:
    job = tmp_path / "job.txt"
    job.write_text(ask_refund(client).approval_id)
    client.close()
    approval_id = job.read_text()
    # First run: nobody decided yet, the worker's wait ends and the job stays.
    assert run_worker(stack, job, 1) == {"timeout": approval_id}
    stack.approve(approval_id)
    # A later run (a new process) picks the outcome up.
    result = run_worker(stack, job, 30)
    assert result["status"] == 200
    assert isinstance(result["body"], dict)
    assert result["body"]["idempotency_key"] == approval_id


def test_a_wait_rides_out_a_service_restart(
    own_stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="countersign")
    with Client(own_stack.url, own_stack.api_key) as client:
        pending = ask_refund(client)
        results: list[Completed] = []
        waiter = Later(0, lambda: results.append(pending.wait(60)))
        time.sleep(0.5)
        own_stack.stop_service()
        time.sleep(1.5)
        own_stack.start_service()
        own_stack.approve(pending.approval_id)
        waiter.join()
    assert results[0].status == 200
    assert results[0].json()["idempotency_key"] == pending.approval_id
    assert any("service unavailable" in r.getMessage() for r in caplog.records), caplog.text


def test_expires_at_is_an_aware_utc_time(client: Client) -> None:
    pending = ask_refund(client)
    assert pending.expires_at.tzinfo is timezone.utc
    assert pending.expires_at > datetime.now(timezone.utc) + timedelta(minutes=59)
    assert pending.approval_id in repr(pending)
    pending.cancel()


def test_a_grant_revoked_before_the_call_runs_fails_it_and_refuses_new_calls(
    own_stack: Stack,
) -> None:
    with Client(own_stack.url, own_stack.api_key) as client:
        pending = ask_refund(client)
        out = own_stack.command("grant", "revoke", "--config", str(own_stack.config), "payments")
        assert "revoked" in out
        own_stack.approve(pending.approval_id)
        with pytest.raises(ExecutionFailed) as failed:
            pending.wait(30)
        assert failed.value.reason is FailureReason.GRANT_REVOKED
        assert own_stack.provider.calls_with_key(pending.approval_id) == []
        with pytest.raises(ApiError) as refused:
            client.proxy_request("payments", "GET", "/v1/balance", reason="show the balance")
        assert (refused.value.status, refused.value.code) == (403, "grant_revoked")


def test_a_service_killed_mid_call_reports_outcome_unknown_and_never_resends(
    own_stack: Stack,
) -> None:
    with Client(own_stack.url, own_stack.api_key) as client:
        pending = ask_refund(client, grant="stuck")
        own_stack.approve(pending.approval_id)
        deadline = time.monotonic() + 20
        while pending.status().status is not ApprovalStatus.EXECUTING:
            assert time.monotonic() < deadline, "the call did not start"
            time.sleep(0.05)
        assert len(own_stack.hanging.calls_with_key(pending.approval_id)) == 1
        own_stack.kill_service()
        own_stack.start_service()
        with pytest.raises(ExecutionFailed) as failed:
            pending.wait(30)
        assert failed.value.reason is FailureReason.OUTCOME_UNKNOWN
        assert failed.value.approval_id == pending.approval_id
        time.sleep(0.5)
        assert len(own_stack.hanging.calls_with_key(pending.approval_id)) == 1
