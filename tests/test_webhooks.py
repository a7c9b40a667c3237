"""Webhooks: registration, URL safety, access, and signed deliveries to a real receiver.

The receiver is an ``http.server`` on 127.0.0.1 in a thread; deliveries run as jobs (in
the embedded mode on a timer thread of this process), never inside the request.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from labeling import events
from labeling.jobs.lifecycle import cancel_eager_jobs, wait_for_eager_jobs
from labeling.models import Webhook, WebhookDelivery
from labeling.webhooks import signing
from tests.api_helpers import client_for, make_world

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Received:
    """One request the receiver got."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers with ``plan`` in order, then ``default``."""

    url: str = ""
    plan: list[Callable[[], int]] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def answer(self) -> int:
        step = self.plan.pop(0) if self.plan else None
        return step() if step else self.default

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Received]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.received) >= n, timeout), (
                f"the receiver got {len(self.received)} requests, expected {n}"
            )
            return list(self.received)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.arrived:
                state.received.append(
                    Received(time.monotonic(), self.path, dict(self.headers.items()), body)
                )
                state.arrived.notify_all()
            code = state.answer()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if code < 300 else b"receiver says no")
            except OSError:
                pass  # the sender timed out and hung up

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/labeling?source=test"
    try:
        yield state
    finally:
        cancel_eager_jobs()
        wait_for_eager_jobs(timeout=30)
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook_settings(settings) -> dict[str, Any]:
    settings.LABELING = {
        **settings.LABELING,
        "WEBHOOKS_ALLOW_LOOPBACK": True,
        "WEBHOOK_BACKOFF_SECONDS": 0.1,
        "WEBHOOK_TIMEOUT_SECONDS": 1.0,
        "WEBHOOK_MAX_ATTEMPTS": 3,
    }
    return settings.LABELING


@pytest.fixture
def world(make_user):
    return make_world(make_user)


def _register(world, url: str, event_names=(events.ANNOTATION_SUBMITTED,), **extra) -> dict:
    response = client_for(world.lead).post(
        f"/api/projects/{world.project.pk}/webhooks/",
        {"url": url, "events": list(event_names), **extra},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def _submit(world, user=None) -> tuple[int, float]:
    """An annotator takes a task and submits it; (task id, seconds the PUT took)."""
    client = client_for(user or world.annotator)
    task = client.get(f"/api/projects/{world.project.pk}/next-task/?kind=verifiability").json()
    started = time.monotonic()
    response = client.put(
        f"/api/tasks/{task['id']}/annotation/", {"value": {"label": "verifiable"}}, format="json"
    )
    elapsed = time.monotonic() - started
    assert response.status_code in (200, 201), response.content
    return task["id"], elapsed


def _final_delivery(hook_id: int, timeout: float = 30.0) -> WebhookDelivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        wait_for_eager_jobs(timeout=max(deadline - time.monotonic(), 0.1))
        delivery = WebhookDelivery.objects.filter(webhook_id=hook_id).order_by("-id").first()
        if delivery is not None and delivery.status in ("done", "failed"):
            return delivery
        time.sleep(0.05)
    raise AssertionError("the delivery never finished")


# --- registration ---------------------------------------------------------------------


def test_a_webhook_shows_its_secret_once_and_never_again(world, webhook_settings, receiver):
    created = _register(world, receiver.url, description="CI")
    assert created["secret"].startswith("whsec_")
    assert len(signing.check_secret(created["secret"])) > 40
    assert created["events"] == [events.ANNOTATION_SUBMITTED]
    lead = client_for(world.lead)
    detail = lead.get(f"/api/webhooks/{created['id']}/").json()
    listed = lead.get(f"/api/projects/{world.project.pk}/webhooks/").json()["results"]
    assert "secret" not in detail
    assert [hook["id"] for hook in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert created["secret"] not in json.dumps([detail, listed])

    rotated = signing.new_secret()
    changed = lead.patch(
        f"/api/webhooks/{created['id']}/", {"secret": rotated, "active": False}, format="json"
    )
    assert changed.status_code == 200
    assert "secret" not in changed.json()
    assert changed.json()["active"] is False
    hook = Webhook.objects.get(pk=created["id"])
    assert (hook.secret, hook.active) == (rotated, False)

    mine = _register(world, receiver.url, secret=rotated)
    assert mine["secret"] == rotated
    assert lead.delete(f"/api/webhooks/{created['id']}/").status_code == 204
    assert not Webhook.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "ftp://example.org/x"}, "url", "http:// or https://"),
        ({"url": "not a url"}, "url", "http:// or https://"),
        ({"url": "https://user:pw@example.org/"}, "url", "credentials"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url", "not a reachable"),
        ({"url": "http://10.1.2.3/hook"}, "url", "LABELING_WEBHOOKS_ALLOW_PRIVATE"),
        ({"url": "http://[fd00::1]/hook"}, "url", "LABELING_WEBHOOKS_ALLOW_PRIVATE"),
        ({"url": "http://0.0.0.0:8000/"}, "url", "not a reachable"),
        ({"url": "https://example.org/", "events": ["nope"]}, "events[0]", "not a valid choice"),
        ({"url": "https://example.org/", "events": []}, "events", ""),
        ({"url": "https://example.org/", "secret": "hunter2"}, "secret", "whsec_"),
        ({"url": "https://example.org/", "secret": "whsec_c2hvcnQ="}, "secret", "24"),
        ({"events": ["export_done"]}, "url", "required"),
    ],
)
def test_bad_registrations_are_a_400_naming_the_field(world, settings, body, field, words):
    settings.LABELING = {**settings.LABELING, "WEBHOOKS_ALLOW_LOOPBACK": True}
    body = {"events": ["export_done"], **body}
    response = client_for(world.lead).post(
        f"/api/projects/{world.project.pk}/webhooks/", body, format="json"
    )
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors, errors
    assert words in " ".join(errors[field])
    assert not Webhook.objects.exists()


def test_loopback_targets_need_the_setting(world, settings):
    url = f"/api/projects/{world.project.pk}/webhooks/"
    lead = client_for(world.lead)
    for target in ("http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/x"):
        refused = lead.post(url, {"url": target, "events": ["export_done"]}, format="json")
        assert refused.status_code == 400
        assert "LABELING_WEBHOOKS_ALLOW_LOOPBACK" in refused.json()["errors"]["url"][0]
    settings.LABELING = {**settings.LABELING, "WEBHOOKS_ALLOW_LOOPBACK": True}
    allowed = lead.post(url, {"url": "http://127.0.0.1:9/x", "events": ["export_done"]})
    assert allowed.status_code == 201


def test_only_leads_reach_webhooks_and_others_get_the_same_404(world, webhook_settings, receiver):
    hook = _register(world, receiver.url)
    _, _ = _submit(world)
    delivery = _final_delivery(hook["id"])
    missing = 10**9
    urls = [
        (f"/api/projects/{world.project.pk}/webhooks/", f"/api/projects/{missing}/webhooks/"),
        (f"/api/webhooks/{hook['id']}/", f"/api/webhooks/{missing}/"),
        (f"/api/webhooks/{hook['id']}/deliveries/", f"/api/webhooks/{missing}/deliveries/"),
        (f"/api/webhook-deliveries/{delivery.pk}/", f"/api/webhook-deliveries/{missing}/"),
    ]
    for outsider in (world.annotator, world.other_lead, world.other_annotator):
        client = client_for(outsider)
        for real, absent in urls:
            seen, gone = client.get(real), client.get(absent)
            assert seen.status_code == gone.status_code == 404, (outsider, real)
            assert seen.json()["detail"] == gone.json()["detail"]
        assert client.patch(urls[1][0], {"active": False}, format="json").status_code == 404
        assert client.delete(urls[1][0]).status_code == 404
        posted = client.post(urls[0][0], {"url": receiver.url, "events": ["export_done"]})
        assert posted.status_code == 404
    assert client_for(None).get(urls[1][0]).status_code == 401
    staff = client_for(world.staff)
    assert staff.get(urls[1][0]).status_code == 200
    assert staff.get(urls[3][0]).json()["payload"]
    assert Webhook.objects.get(pk=hook["id"]).active


# --- deliveries -----------------------------------------------------------------------


def test_a_submit_is_delivered_signed_and_logged(world, webhook_settings, receiver):
    hook = _register(world, receiver.url)
    task_id, _ = _submit(world)
    (got,) = receiver.wait_for(1)
    delivery = _final_delivery(hook["id"])

    assert got.path == "/hooks/labeling?source=test"
    headers = {k.lower(): v for k, v in got.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["webhook-event"] == "annotation_submitted"
    assert headers["webhook-id"] == delivery.message_id
    # The reference implementation of the scheme accepts it...
    payload = StandardWebhook(hook["secret"]).verify(got.body, got.headers)
    # ...and so does the README's standard-library recipe; a changed body or secret does not.
    assert signing.verify(secret=hook["secret"], headers=got.headers, body=got.body)
    assert not signing.verify(secret=hook["secret"], headers=got.headers, body=got.body + b" ")
    assert not signing.verify(secret=signing.new_secret(), headers=got.headers, body=got.body)
    stale = float(headers["webhook-timestamp"]) + signing.TOLERANCE_SECONDS + 1
    assert not signing.verify(secret=hook["secret"], headers=got.headers, body=got.body, now=stale)

    assert payload["type"] == "annotation_submitted"
    assert payload["timestamp"].endswith("Z")
    assert payload["data"] == {
        "project_id": world.project.pk,
        "kind": "verifiability",
        "task_id": task_id,
        "annotator_id": world.annotator.pk,
    }
    log = client_for(world.lead).get(f"/api/webhooks/{hook['id']}/deliveries/").json()["results"]
    assert len(log) == 1
    entry = log[0]
    assert (entry["status"], entry["attempts"], entry["response_status"]) == ("done", 1, 200)
    assert (entry["last_error"], entry["next_attempt_at"]) == ("", None)
    assert entry["event"] == "annotation_submitted"
    assert entry["message_id"] == headers["webhook-id"]


def test_a_500_is_retried_with_exponential_backoff_until_it_succeeds(
    world, webhook_settings, receiver
):
    receiver.plan = [lambda: 500, lambda: 503]
    hook = _register(world, receiver.url)
    _submit(world)
    tries = receiver.wait_for(3)
    delivery = _final_delivery(hook["id"])
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("done", 3, 200)
    first_gap, second_gap = tries[1].at - tries[0].at, tries[2].at - tries[1].at
    assert first_gap >= 0.1 * 0.9  # WEBHOOK_BACKOFF_SECONDS
    assert second_gap >= 0.2 * 0.9  # doubled
    ids = {t.headers["webhook-id"] for t in tries}
    assert ids == {delivery.message_id}  # one message, retried: receivers deduplicate on it
    assert len({t.body for t in tries}) == 1
    for t in tries:
        assert signing.verify(secret=hook["secret"], headers=t.headers, body=t.body)


def test_a_timeout_is_retried(world, webhook_settings, receiver):
    release = threading.Event()

    def hang() -> int:
        release.wait(5)
        return 200

    receiver.plan = [hang]
    hook = _register(world, receiver.url)
    _submit(world)
    receiver.wait_for(2)
    release.set()
    delivery = _final_delivery(hook["id"])
    assert (delivery.status, delivery.attempts) == ("done", 2)


def test_it_gives_up_after_max_attempts_and_the_log_says_why(world, webhook_settings, receiver):
    receiver.default = 500
    hook = _register(world, receiver.url)
    _submit(world)
    delivery = _final_delivery(hook["id"])
    assert len(receiver.wait_for(3)) == 3
    time.sleep(0.5)  # no fourth try comes
    assert len(receiver.received) == 3
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 3, 500)
    (entry,) = (
        client_for(world.lead).get(f"/api/webhooks/{hook['id']}/deliveries/").json()["results"]
    )
    assert entry["status"] == "failed"
    assert entry["attempts"] == entry["max_attempts"] == 3
    assert "gave up after 3 tries" in entry["last_error"]
    assert "HTTP 500" in entry["last_error"]
    assert entry["next_attempt_at"] is None
    detail = client_for(world.lead).get(f"/api/webhook-deliveries/{entry['id']}/").json()
    assert detail["response_body"] == "receiver says no"
    assert json.loads(detail["payload"])["type"] == "annotation_submitted"


def test_a_timeout_on_the_last_try_is_logged_as_a_timeout(world, webhook_settings, receiver):
    webhook_settings["WEBHOOK_MAX_ATTEMPTS"] = 1
    release = threading.Event()
    receiver.default = 200
    receiver.plan = [lambda: (release.wait(5), 200)[1]]
    hook = _register(world, receiver.url)
    _submit(world)
    delivery = _final_delivery(hook["id"])
    release.set()
    assert (delivery.status, delivery.attempts, delivery.response_status) == ("failed", 1, None)
    assert "timeout" in delivery.error


def test_an_annotators_submit_does_not_wait_on_the_delivery(world, webhook_settings, receiver):
    webhook_settings["WEBHOOK_TIMEOUT_SECONDS"] = 20.0
    release = threading.Event()
    receiver.plan = [lambda: (release.wait(15), 200)[1]]
    hook = _register(world, receiver.url)
    _, elapsed = _submit(world)
    receiver.wait_for(1)  # the delivery reached the receiver, which now holds it
    assert not release.is_set()
    assert elapsed < 10, f"the submit took {elapsed:.1f} s: it waited on the receiver"
    assert WebhookDelivery.objects.get(webhook_id=hook["id"]).status == "running"
    release.set()
    assert _final_delivery(hook["id"]).status == "done"


def test_only_subscribed_events_of_active_webhooks_are_sent(world, webhook_settings, receiver):
    wanted = _register(world, receiver.url, event_names=[events.TASK_COMPLETED])
    paused = _register(world, receiver.url)
    client_for(world.lead).patch(f"/api/webhooks/{paused['id']}/", {"active": False})
    _register(world, receiver.url)  # another project's events never reach it:
    Webhook.objects.filter(pk=wanted["id"] + 2).update(project=world.other)
    _submit(world, world.annotator)
    _submit(world, world.annotator2)  # overlap 2: the task is now complete
    delivery = _final_delivery(wanted["id"])
    assert delivery.event == events.TASK_COMPLETED
    wait_for_eager_jobs()
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [wanted["id"]]
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["task_completed"]


def test_a_target_that_became_unsafe_is_not_called(world, webhook_settings, receiver, settings):
    hook = _register(world, receiver.url)
    settings.LABELING = {**webhook_settings, "WEBHOOKS_ALLOW_LOOPBACK": False}
    _submit(world)
    delivery = _final_delivery(hook["id"])
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "not sent" in delivery.error
    assert "LABELING_WEBHOOKS_ALLOW_LOOPBACK" in delivery.error
    assert receiver.received == []


def test_other_events_are_delivered_too(world, webhook_settings, receiver):
    hook = _register(world, receiver.url, event_names=[events.RUN_DONE, events.EXPORT_DONE])
    lead = client_for(world.lead)
    run = lead.post(f"/api/projects/{world.project.pk}/agreement-runs/", {"kind": "verifiability"})
    export = lead.post(f"/api/projects/{world.project.pk}/exports/", {"format": "jsonl"})
    assert run.status_code == export.status_code == 202
    got = receiver.wait_for(2)
    bodies = {json.loads(r.body)["type"]: json.loads(r.body)["data"] for r in got}
    assert bodies["agreement_run_done"]["id"] == run.json()["id"]
    assert bodies["export_done"]["id"] == export.json()["id"]
    _final_delivery(hook["id"])


def test_delivery_log_and_webhook_list_take_constant_queries(
    world, webhook_settings, django_assert_num_queries
):
    hook = Webhook.objects.create(
        project=world.project, url="http://127.0.0.1:9/", secret=signing.new_secret(), events=[]
    )
    lead = client_for(world.lead)
    counts = []
    for n in (2, 12):
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                webhook=hook,
                project=world.project,
                event="export_done",
                message_id=f"msg_{i}",
                payload="{}",
                max_attempts=3,
                status="done",
            )
            for i in range(n)
        )
        Webhook.objects.bulk_create(
            Webhook(project=world.project, url=f"http://127.0.0.1:9/{i}", secret="s", events=[])
            for i in range(n)
        )
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as log:
            assert lead.get(f"/api/webhooks/{hook.pk}/deliveries/").status_code == 200
            assert lead.get(f"/api/projects/{world.project.pk}/webhooks/").status_code == 200
        counts.append(len(log))
    assert counts[0] == counts[1]


def test_leads_read_the_delivery_log_in_the_admin_without_secrets(
    world, webhook_settings, receiver, client
):
    receiver.default = 500
    webhook_settings["WEBHOOK_MAX_ATTEMPTS"] = 1
    hook = _register(world, receiver.url)
    _submit(world)
    delivery = _final_delivery(hook["id"])
    client.force_login(world.lead)
    log = client.get("/admin/labeling/webhookdelivery/")
    assert log.status_code == 200
    assert b"annotation_submitted" in log.content
    assert b"HTTP 500" in log.content
    page = client.get(f"/admin/labeling/webhook/{hook['id']}/change/")
    assert page.status_code == 200
    assert hook["secret"].encode() not in page.content
    assert client.get(f"/admin/labeling/webhookdelivery/{delivery.pk}/change/").status_code == 200
    client.force_login(world.annotator)
    assert client.get(f"/admin/labeling/webhookdelivery/{delivery.pk}/change/").status_code in (
        302,
        403,
        404,
    )
    assert hook["secret"].encode() not in client.get("/admin/labeling/webhook/").content


def test_adjudicating_gold_is_delivered_as_gold_changed(world, webhook_settings, receiver):
    hook = _register(world, receiver.url, event_names=[events.GOLD_CHANGED])
    task_id, _ = _submit(world)
    response = client_for(world.lead).put(
        f"/api/tasks/{task_id}/gold/", {"value": {"label": "verifiable"}}, format="json"
    )
    assert response.status_code == 200, response.content
    (got,) = receiver.wait_for(1)
    body = json.loads(got.body)
    assert body["type"] == "gold_changed"
    assert body["data"]["task_ids"] == [task_id]
    assert _final_delivery(hook["id"]).status == "done"
