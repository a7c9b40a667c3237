"""Webhook deliveries: the events subscriber that queues them and the job that sends them.

``queue_deliveries`` subscribes to every domain event (``labeling.events``): it runs
after the response was sent, reads the project's active webhooks (one query), writes
one ``WebhookDelivery`` per subscribed webhook (one INSERT) and hands each to the job
lifecycle (``publish_later``: a broker message, or in the embedded mode a background
thread), so no request ever waits on a receiver. ``deliver_webhook`` (the job
``webhook_delivery_job``) makes ONE try: a 2xx answer is ``done``; anything else is
queued again after an exponential backoff (``WEBHOOK_BACKOFF_SECONDS`` × 2^(try−1)),
until ``max_attempts`` tries, then ``failed``. An unsafe target fails at once.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import urllib3
from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from labeling import events
from labeling.jobs.lifecycle import Job, JobFailed, JobRetryLater, publish_later, run_job
from labeling.models import JobStatus
from labeling.webhooks.models import Webhook, WebhookDelivery
from labeling.webhooks.signing import signed_headers
from labeling.webhooks.targets import Target, UnsafeTarget, check_url, resolve

USER_AGENT = "labeling-webhooks/1"
RESPONSE_KEPT = 1000  # characters of the receiver's answer kept in the log
MAX_BACKOFF_SECONDS = 6 * 3600.0
OVERDUE_AFTER = timedelta(seconds=60)  # embedded: a try this late lost its timer thread
MAX_RESUMED = 100
NO_WEBHOOKS_CACHED_SECONDS = 60


def _options() -> dict[str, Any]:
    conf = settings.LABELING
    return {
        "allow_loopback": bool(conf["WEBHOOKS_ALLOW_LOOPBACK"]),
        "allow_private": bool(conf["WEBHOOKS_ALLOW_PRIVATE"]),
    }


def check_target(url: str) -> Target:
    """The parts of ``url`` if the settings let a webhook call it, else ``UnsafeTarget``."""
    return check_url(url, **_options())


def backoff_seconds(attempt: int) -> float:
    """The wait after failed try number ``attempt`` (1-based) before the next one."""
    base = float(settings.LABELING["WEBHOOK_BACKOFF_SECONDS"])
    return float(min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF_SECONDS))


def event_body(event: events.Event, *, at: datetime | None = None) -> str:
    """The JSON body of an event: ``{"type", "timestamp", "data"}`` (Standard Webhooks)."""
    stamp = (at or timezone.now()).astimezone(UTC).isoformat().replace("+00:00", "Z")
    data = {"project_id": event.project_id, **dict(event.data)}
    return orjson.dumps({"type": event.name, "timestamp": stamp, "data": data}).decode()


def has_webhooks_key(project_id: int) -> str:
    return f"labeling:has-webhooks:{project_id}"


def forget_webhooks(project_id: int) -> None:
    """Call when a project's webhooks change: the next event reads them again."""
    cache.delete(has_webhooks_key(project_id))


def queue_deliveries(event: events.Event) -> None:
    """Write and hand off one delivery per active webhook of the project that wants ``event``.

    A project without active webhooks costs no query for ``NO_WEBHOOKS_CACHED_SECONDS``
    after it was found to have none (the annotators' submits publish events); changing a
    webhook forgets that at once in this process, and in every process when the cache is
    shared (``CACHE_URL``), else within that time.
    """
    key = has_webhooks_key(event.project_id)
    if cache.get(key) == 0:
        return
    active = list(
        Webhook.objects.filter(project_id=event.project_id, active=True).only("id", "events")
    )
    if not active:
        cache.set(key, 0, NO_WEBHOOKS_CACHED_SECONDS)
        return
    hooks = [hook for hook in active if event.name in (hook.events or ())]
    if not hooks:
        return
    body = event_body(event)
    max_attempts = int(settings.LABELING["WEBHOOK_MAX_ATTEMPTS"])
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                webhook_id=hook.pk,
                project_id=event.project_id,
                event=event.name,
                message_id=f"msg_{uuid.uuid4().hex}",
                payload=body,
                max_attempts=max_attempts,
            )
            for hook in hooks
        ]
    )
    for delivery in deliveries:
        publish_later(WebhookDelivery, delivery.pk)


def deliver_webhook(delivery_id: int) -> str | None:
    """Make one try of a delivery (the job ``webhook_delivery_job``); its final status or None."""
    return run_job(WebhookDelivery, delivery_id, _try_once)


def _try_once(job: Job) -> dict[str, Any]:
    delivery = WebhookDelivery.objects.select_related("webhook").get(pk=job.pk)
    hook = delivery.webhook
    started = timezone.now()
    outcome: dict[str, Any] = {"last_attempt_at": started, "response_status": None}
    if not hook.active:
        raise JobFailed("not sent: the webhook was deactivated", **outcome)
    timeout = float(settings.LABELING["WEBHOOK_TIMEOUT_SECONDS"])
    clock = time.monotonic()
    status: int | None = None
    answer = ""
    try:
        target = check_target(hook.url)
        address = resolve(target, **_options())
        status, answer = _post(target, address, delivery, hook.secret, timeout)
    except UnsafeTarget as exc:
        raise JobFailed(f"not sent: the URL {exc}", **outcome) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = _describe_network_error(exc, timeout)
    else:
        error = "" if 200 <= status < 300 else f"the receiver answered HTTP {status}"
    outcome.update(
        response_status=status,
        response_body=answer,
        duration_ms=int((time.monotonic() - clock) * 1000),
    )
    if not error:
        return outcome
    if job.attempt >= delivery.max_attempts:
        raise JobFailed(f"gave up after {job.attempt} tries; last: {error}", **outcome)
    raise JobRetryLater(error, delay=backoff_seconds(job.attempt), **outcome)


def _post(
    target: Target, address: str, delivery: WebhookDelivery, secret: str, timeout: float
) -> tuple[int, str]:
    """POST the payload to ``address`` (checked) as ``target``'s host; (status, answer start).

    No redirects (a 3xx is a failed try: following it could reach an unchecked host),
    no urllib3 retries (the job retries), one total timeout for connect and read.
    """
    body = delivery.payload
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Host": target.host_header,
        "webhook-event": delivery.event,
        **signed_headers(secret=secret, message_id=delivery.message_id, body=body),
    }
    pool_kwargs: dict[str, Any] = {
        "timeout": urllib3.Timeout(total=timeout),
        "retries": False,
        "maxsize": 1,
    }
    pool: urllib3.HTTPConnectionPool
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            address,
            target.port,
            server_hostname=target.host,
            assert_hostname=target.host,
            **pool_kwargs,
        )
    else:
        pool = urllib3.HTTPConnectionPool(address, target.port, **pool_kwargs)
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body.encode(),
            headers=headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            answer = response.read(RESPONSE_KEPT * 4, decode_content=True)
        finally:
            response.release_conn()
        return response.status, answer.decode("utf-8", "replace")[:RESPONSE_KEPT]
    finally:
        pool.close()


def _describe_network_error(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return f"no answer within {timeout:g} s (timeout)"
    reason = getattr(exc, "reason", None) or exc
    return f"could not reach the receiver: {type(reason).__name__}: {reason}"


def resume_due_deliveries(*, webhook_id: int) -> int:
    """Embedded mode only: hand off again this webhook's tries that are overdue.

    An eager try waits on a timer thread of the process that queued it; if that process
    stopped, nothing else would send it (no beat). Called when a lead reads the log; a
    try that is also still pending elsewhere is harmless (one claim wins). Also takes
    over tries whose process died mid-send. Returns how many it handed off.
    """
    from labeling.jobs.lifecycle import is_eager
    from labeling.jobs.sweeps import take_over_dead_claims

    if not is_eager():
        return 0
    take_over_dead_claims(WebhookDelivery, in_background=True, webhook_id=webhook_id)
    overdue = timezone.now() - OVERDUE_AFTER
    late = Q(run_after__lt=overdue) | Q(run_after__isnull=True, created_at__lt=overdue)
    due = list(
        WebhookDelivery.objects.filter(late, webhook_id=webhook_id, status=JobStatus.QUEUED)
        .order_by("id")
        .values_list("pk", flat=True)[:MAX_RESUMED]
    )
    for pk in due:
        publish_later(WebhookDelivery, pk)
    return len(due)
