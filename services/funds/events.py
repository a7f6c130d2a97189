"""What funds consumes and publishes."""

from __future__ import annotations

from shared.events.consumer import Subscription

SUBSCRIPTIONS: tuple[Subscription, ...] = ()
