"""One call for the ticket action: what a complaint is about, where, and
whether a person must check it.

``dispatch(routing, description, location)`` predicts the category (the
classifier trained from data/complaints and the routing keywords), finds the
town in the location the citizen gave (then in the description), and flags
the complaint for a person when the confidence is below the routing table's
``dispatch.min_confidence``: the ticket then goes to the triage desk keeping
the predicted category. Suggestions are not classified (category
``suggestion``), but their town is still recorded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.db.routing import FALLBACK_CATEGORY, Route, Routing, RoutingError, load_routing
from bot.dispatch.classifier import Classifier, TrainingDataError, classifier_for

log = logging.getLogger(__name__)

#: Never a classifier's answer: suggestions, the triage desk, and complaints
#: about the hotline's own service (chosen by the dialogue, issue 21).
NOT_CLASSIFIED = ("suggestion", FALLBACK_CATEGORY, "hotline_service")


@dataclass(frozen=True)
class Dispatch:
    category: str
    confidence: float | None  # None: not classified (a suggestion)
    town: str | None  # key of data/towns.yml
    needs_review: bool
    route: Route  # where the ticket goes


def complaint_classifier(routing: Routing) -> Classifier:
    """The classifier for the routing table's categories (trained once, cached)."""
    keywords = {
        key: category.keywords
        for key, category in routing.categories.items()
        if key not in NOT_CLASSIFIED
    }
    return classifier_for(keywords)


def find_town(routing: Routing, location: str | None, *texts: str | None) -> str | None:
    """The town key named in the location the citizen gave, else in ``texts``."""
    if routing.towns is None:
        return None
    match = routing.towns.find(*texts, location=location)
    return match.town.key if match else None


def dispatch(
    routing: Routing, description: str, location: str | None = None, *, kind: str = "complaint"
) -> Dispatch:
    town = find_town(routing, location, description)
    if kind == "suggestion":
        return Dispatch("suggestion", None, town, False, routing.route("suggestion", town))
    prediction = complaint_classifier(routing).predict(f"{description} {location or ''}")
    category = prediction.category if routing.is_known(prediction.category) else FALLBACK_CATEGORY
    needs_review = prediction.confidence < routing.min_confidence
    route = routing.route(FALLBACK_CATEGORY if needs_review else category, town)
    return Dispatch(category, round(prediction.confidence, 4), town, needs_review, route)


def warm_up() -> bool:
    """Train the classifier now (the action server's start), not on the first
    complaint. A broken routing or training file is logged, not fatal: the
    action server still answers everything else, and creating a ticket names
    the problem."""
    started = time.perf_counter()
    try:
        complaint_classifier(load_routing())
    except (RoutingError, TrainingDataError) as exc:
        log.error("complaint dispatch is not ready: %s", exc)
        return False
    log.info("complaint classifier trained in %.0f ms", (time.perf_counter() - started) * 1000)
    return True
