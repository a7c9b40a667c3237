"""Domain events: published when a change commits, delivered in process to subscribers.

``publish`` inside a transaction delivers after it commits (nothing on rollback);
outside one, at once. During an HTTP request, delivery waits until the response has
been sent (``DeliverAfterResponseMiddleware``), so subscribers never add to a request's
latency. Subscribers run in the publishing process, so they must be cheap (write a row,
touch a cache key) and hand anything heavy to a job. A failing subscriber is logged and
never breaks the request nor the other subscribers. Subscriptions are made in
``LabelingConfig.ready``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)

ANNOTATION_SUBMITTED = "annotation_submitted"  # data: kind, task_id, annotator_id
ANNOTATION_EDITED = "annotation_edited"  # data: kind, task_id, annotator_id
TASK_COMPLETED = "task_completed"  # data: kind, task_id (its last needed annotation arrived)
RUN_DONE = "agreement_run_done"  # data: kind, id
EXPORT_DONE = "export_done"  # data: id, format
GOLD_CHANGED = "gold_changed"  # data: kind, task_ids (None: many, e.g. an aggregation)
NAMES = frozenset(
    {ANNOTATION_SUBMITTED, ANNOTATION_EDITED, TASK_COMPLETED, RUN_DONE, EXPORT_DONE, GOLD_CHANGED}
)


@dataclass(frozen=True)
class Event:
    """Something that happened in a project."""

    name: str
    project_id: int
    data: Mapping[str, Any] = field(default_factory=dict)


Subscriber = Callable[[Event], None]
_subscribers: dict[str, list[Subscriber]] = {}
_request = threading.local()  # .deferred: events of the current request, or None


def subscribe(name: str, subscriber: Subscriber) -> None:
    """Call ``subscriber(event)`` for every committed event ``name`` (idempotent)."""
    if name not in NAMES:
        raise ValueError(f"unknown event {name!r}; one of {', '.join(sorted(NAMES))}")
    handlers = _subscribers.setdefault(name, [])
    if subscriber not in handlers:
        handlers.append(subscriber)


def unsubscribe(name: str, subscriber: Subscriber) -> None:
    """Stop calling ``subscriber`` for ``name`` (tests)."""
    handlers = _subscribers.get(name, [])
    if subscriber in handlers:
        handlers.remove(subscriber)


def publish(name: str, *, project_id: int, **data: Any) -> Event:
    """Deliver the event to its subscribers once the current transaction commits."""
    if name not in NAMES:
        raise ValueError(f"unknown event {name!r}; one of {', '.join(sorted(NAMES))}")
    event = Event(name, project_id, data)
    if _subscribers.get(name):
        transaction.on_commit(lambda: _deliver_or_defer(event))
    return event


def _deliver_or_defer(event: Event) -> None:
    deferred = getattr(_request, "deferred", None)
    if deferred is None:
        _deliver(event)
    else:
        deferred.append(event)


class DeliverAfterResponseMiddleware:
    """Holds the events a request publishes and delivers them once its response is sent.

    They ride on the response's closers (Django calls them from ``response.close()``,
    which the WSGI server calls after the last byte), so a subscriber never adds to the
    request's latency. A request that raises delivers them at once.
    """

    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        _request.deferred = []
        try:
            response = self.get_response(request)
        except BaseException:
            _deliver_all(_take_deferred())
            raise
        deferred = _take_deferred()
        if deferred:
            # HttpResponseBase.close() runs these, then sends request_finished.
            response._resource_closers.append(lambda: _deliver_all(deferred))
        return response


def _take_deferred() -> list[Event]:
    deferred, _request.deferred = getattr(_request, "deferred", None) or [], None
    return deferred


def _deliver_all(events: list[Event]) -> None:
    for event in events:
        _deliver(event)


def _deliver(event: Event) -> None:
    for subscriber in list(_subscribers.get(event.name, ())):
        try:
            subscriber(event)
        except Exception:
            logger.exception("subscriber %r failed on %s", subscriber, event.name)
