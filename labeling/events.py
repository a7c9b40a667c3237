"""Domain events: published when a change commits, delivered in process to subscribers.

``publish`` inside a transaction delivers after it commits (nothing on rollback);
outside one, at once. During an HTTP request, delivery waits until the response has
been sent (Django's ``request_finished``), so subscribers never add to a request's
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

from django.core.signals import request_finished, request_started
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


def _request_started(**kwargs: Any) -> None:
    _request_finished()  # a previous response never closed: deliver its events now
    _request.deferred = []


def _request_finished(**kwargs: Any) -> None:
    """After the response was sent: deliver the request's events."""
    deferred, _request.deferred = getattr(_request, "deferred", None), None
    for event in deferred or ():
        _deliver(event)


request_started.connect(_request_started, dispatch_uid="labeling.events.request_started")
request_finished.connect(_request_finished, dispatch_uid="labeling.events.request_finished")


def _deliver(event: Event) -> None:
    for subscriber in list(_subscribers.get(event.name, ())):
        try:
            subscriber(event)
        except Exception:
            logger.exception("subscriber %r failed on %s", subscriber, event.name)
