"""Sends the reminder nudges that are due, exactly once per slot, paced like Teams wants.

One run: find due people through the schedule index, decide per person (model.domain.schedule),
claim the slot in the person's document, send through CloudAdapter.continue_conversation,
record the outcome. Transient answers (429, 412, 5xx, connection errors) are retried with
exponential backoff and jitter, honouring Retry-After; 403/404 (bot removed, conversation
gone) pause that person's reminders instead of retrying forever.

Crash window: a slot is claimed (stored) at the last moment before its request is sent
(after the tenant's pace allows it, inside the continuation, right before send_activity),
and settled (stored as handled) after the connector answers. A crash between the two
leaves a claim, and the next run counts a claimed slot as delivered: nobody gets a nudge
twice. The cost: a nudge whose request had not left the process when it died is skipped
(those between their claim and their request, a few at a few hundred nudges a second;
that person's next slot comes as usual). A 429 gives the claim back while the nudge waits
to retry (the connector refused it, so nothing was delivered), so the wait is outside the
window; other failures (5xx, a dropped connection) may follow a delivery and keep it.

On a clean stop (SIGTERM or SIGINT: a scale-in, a deploy; bot/http/serving.py) the app's
on_shutdown hook (bot/runtime.py) calls `stop()`:
no slot is claimed from then on (a worker waiting for its tenant's pace or for a person
leaves that person unclaimed and due, for the next run or another instance), and the
nudges already claimed finish, retries included, and are settled, for at most
NUDGE_STOP_GRACE_SECONDS. So a clean stop loses nobody; only a nudge still unsettled when
the grace runs out is cut off, as in a crash.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable

from botbuilder.core import BotAdapter, TurnContext

from dialogs.presenting import as_activity
from dialogs.services import Services
from model import content
from model.domain import goals, nudges
from model.safe_log import without_message
from model.storage.docstore import one_read_per_turn

from .sdk.activity_codec import read_reference

log = logging.getLogger("kompetencehjulet.nudges")

RETRYABLE = {408, 412, 429, 500, 502, 503, 504}
INDEX_BATCH = 200
HEADROOM = 0.95  # pace a little under the limit so clock jitter never crosses it
GONE = {403, 404}


@dataclass
class Report:
    due: int = 0
    outcomes: Counter = field(default_factory=Counter)
    retries: int = 0
    seconds: float = 0.0

    skipped: Counter = field(default_factory=Counter)  # what the scan could not read (set aside, counted)

    def as_dict(self) -> dict[str, Any]:
        unreadable = {f"unreadable_{what}": n for what, n in sorted(self.skipped.items()) if n}
        return {
            "due": self.due,
            **dict(self.outcomes),
            **unreadable,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
        }


class TokenBucket:
    """Paces requests to `rate` per second (Teams allows 50 per second per app per tenant,
    and 7 per second per conversation, per its rate-limit page dated 2026-10-08; a nudge
    run sends one message per conversation). `clock` and `sleep` are injectable (tests)."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.rate = max(rate, 0.1)
        self.capacity = burst if burst is not None else 1.0  # smooth: no bursts over the limit
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.stamp = clock()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            while True:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1 - 1e-9:  # a whole token, give or take float rounding
                    self.tokens -= 1
                    return
                await self.sleep((1 - self.tokens) / self.rate)

    def hold(self, seconds: float) -> None:
        """Retry-After: nobody in this tenant sends until it has passed."""
        self.tokens = min(self.tokens, 0) - seconds * self.rate


def status_of(error: BaseException) -> tuple[int | None, float | None]:
    """HTTP status and Retry-After (seconds) from whatever the connector client raised."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None) or getattr(response, "status", None)
    headers = getattr(response, "headers", None) or {}
    retry_after = None
    try:
        raw = headers.get("Retry-After") if hasattr(headers, "get") else None
        retry_after = float(raw) if raw is not None else None
    except (TypeError, ValueError):
        retry_after = None
    return (int(status) if status else None), retry_after


class NudgeSender:
    def __init__(
        self,
        adapter: BotAdapter,
        services: Services,
        app_id: str = "",
        rate: float = 50.0,
        concurrency: int = 16,
        max_attempts: int = 6,
        base_delay: float = 0.5,
    ) -> None:
        self.adapter = adapter
        self.services = services
        self.app_id = app_id
        self.rate = rate
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self._buckets: dict[str, TokenBucket] = {}
        self._running = asyncio.Lock()
        self.stopping = False  # set by stop(): no slot is claimed from then on
        self._claimed = 0  # nudges claimed and not yet settled
        self._settled = asyncio.Event()  # set while _claimed is 0
        self._settled.set()

    async def stop(self, grace: float) -> int:
        """Claim no more slots and wait, at most `grace` seconds, until every nudge already
        claimed is sent (or refused) and settled. Returns how many are still unsettled (0 on
        a clean stop); cancelling the run then cuts those off, as a crash would."""
        self.stopping = True
        began, in_flight = time.perf_counter(), self._claimed
        try:
            await asyncio.wait_for(self._settled.wait(), grace)
        except TimeoutError:
            log.warning("stopping: %d nudges still in flight after %g s are cut off", self._claimed, grace)
        else:
            log.info("stopping: %d nudges in flight settled in %.2f s", in_flight, time.perf_counter() - began)
        return self._claimed

    def _claim_begins(self) -> None:
        self._claimed += 1
        self._settled.clear()

    def _claim_ends(self) -> None:
        self._claimed -= 1
        if self._claimed == 0:
            self._settled.set()

    def _bucket(self, tenant: str | None) -> TokenBucket:
        key = tenant or "-"
        if key not in self._buckets:
            self._buckets[key] = TokenBucket(self.rate * HEADROOM)
        return self._buckets[key]

    async def run(self, now: datetime | None = None, only: Callable[[str], bool] | None = None) -> Report:
        """Send everything due at `now` once; a second run for the same instant sends nothing.
        `only`: just the due people it accepts (this instance's shares, model/storage/wave_shares.py)."""
        now = now or self.services.now()
        report = Report()
        started = time.perf_counter()
        async with self._running:
            keys = [key for key in await self.services.reminders.due(now) if only is None or only(key)]
            report.due = len(keys)
            report.skipped = Counter(self.services.reminders.skipped)
            moves: list = []  # index moves, written per index document in batches (see Reminders.reindex_many)
            pending = iter(keys)  # shared by the workers: each person is taken once

            async def worker() -> None:
                # A few workers pulling people, not a task per person: a wave of 50,000 would
                # otherwise start 50,000 tasks in one loop pass and stall every chat meanwhile.
                for key in pending:
                    if self.stopping:  # a clean stop: whoever is left stays due, unclaimed
                        break
                    try:
                        with one_read_per_turn():  # the person is read once per nudge, not per step
                            report.outcomes[await self._one(key, now, report, moves)] += 1
                    except Exception as err:  # noqa: BLE001 - one person's failure must not stop the wave
                        log.error("nudge for one person failed: %s", without_message(err))
                        report.outcomes["error"] += 1
                    if len(moves) >= INDEX_BATCH:
                        batch, moves[:] = list(moves), []
                        await self.services.reminders.reindex_many(batch)

            try:
                await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(keys)))))
            finally:
                await self.services.reminders.reindex_many(moves)
            # Only now is everything due at `now` handled: after downtime the next run scans
            # back to here (a run killed before this line is done again by the next one). A run
            # limited to this instance's shares (`only`) marks it too: the due scan never looks
            # back less than SCAN_BACK, and a dead instance's shares are taken over within
            # seconds (model/storage/wave_shares.py), so the others' people are still found.
            # A run cut short by stop() does not: the next one scans back as after a crash.
            if not self.stopping:
                await self.services.reminders.mark_run(now)
        report.seconds = time.perf_counter() - started
        log.info("nudge run: %s", report.as_dict())
        return report

    async def _one(self, key: str, now: datetime, report: Report, moves: list) -> str:
        reminders = self.services.reminders
        doc = await self.services.users.get(key)
        plan = reminders.plan(key, doc, now)
        if not plan.send:
            handled = plan.slot is not None and plan.reason != "not_due"
            await reminders.settle(key, plan.slot if handled else None, "skipped" if handled else "noop", now, moves)
            return plan.reason
        slot = plan.slot
        assert slot is not None, "a plan that sends has a slot"
        reference = (doc or {}).get("conversation")
        if doc is None or not reference or not isinstance(reference, dict):  # none, or one that cannot be read
            await reminders.settle(key, slot, "gone", now, moves)
            return "no_conversation"
        conversation = reference.get("conversation")
        bucket = self._bucket(conversation.get("tenantId") if isinstance(conversation, dict) else None)
        language = (doc.get("profile") or {}).get("language") if isinstance(doc.get("profile"), dict) else None
        lang = content.normalise_language(language if isinstance(language, str) else "da")
        activity = as_activity(nudges.nudge_reply(lang, doc, slot))
        await bucket.take()
        held = False  # a claim may be stored for this nudge: stop() waits for it until it is settled
        stopped = False

        async def claim() -> bool:
            nonlocal held, stopped
            if not held:
                if self.stopping:  # checked and counted with no await between: stop() sees every claim
                    stopped = True
                    return False
                self._claim_begins()
                held = True  # before the write: a write that raises may still have landed
            return await reminders.claim(key, slot)

        async def unclaim() -> None:
            nonlocal held
            await reminders.unclaim(key, slot)
            held = False
            self._claim_ends()

        try:
            outcome = await self._deliver(reference, activity, bucket, report, claim, unclaim)
            if stopped:
                return "stopped"  # not claimed: still due, for the next run or another instance
            if outcome != "claimed_elsewhere":
                await reminders.settle(key, plan.slot, outcome, now, moves)
            goal = goals.current_goal(doc)
            if outcome == "sent" and goal is not None:  # the goal was followed up: the person sees when
                await self.services.goals.mark_asked(key, goal["id"], now)
            return outcome
        finally:
            if held:
                self._claim_ends()

    async def send_once(self, reference: dict, activity) -> bool:
        """One proactive message outside the nudge schedule (the retention warning), paced
        and retried like a nudge; True when the connector took it."""
        bucket = self._bucket((reference.get("conversation") or {}).get("tenantId"))
        await bucket.take()

        async def no_claim() -> bool:
            return True

        return await self._deliver(reference, activity, bucket, Report(), no_claim) == "sent"

    async def _deliver(
        self, reference: dict, activity, bucket: TokenBucket, report: Report, claim, unclaim=None
    ) -> str:
        """Send, retrying transient failures. `claim()` runs right before each attempt's
        request while no claim is held; after a 429 (refused, surely not delivered)
        `unclaim()` gives the claim back for the wait, so a crash then loses nothing, and the
        next attempt claims again (if another sender took the slot meanwhile, it stops)."""
        ref = read_reference(reference)
        claimed = False
        for attempt in range(self.max_attempts):
            failure: list[BaseException] = []
            lost_claim: list[bool] = []

            async def callback(context: TurnContext, failure=failure, lost_claim=lost_claim) -> None:
                nonlocal claimed
                context.activity.id = None  # a new message in the chat, not a reply to the continuation event
                if not claimed:  # claim as late as possible: the crash window is only the send itself
                    if not await claim():
                        lost_claim.append(True)
                        return
                    claimed = True
                try:
                    await context.send_activity(activity)
                except Exception as err:  # noqa: BLE001 - handled below, not by on_turn_error
                    failure.append(err)

            try:
                await self.adapter.continue_conversation(ref, callback, self.app_id or None)
            except Exception as err:  # noqa: BLE001 - connector factory/auth errors
                failure.append(err)
            if lost_claim:
                return "claimed_elsewhere"
            if not failure:
                return "sent"
            status, retry_after = status_of(failure[0])
            if status in GONE:
                return "gone"
            if status is not None and status not in RETRYABLE:
                log.warning("nudge refused with HTTP %s", status)
                return "failed"
            report.retries += 1
            delay = retry_after if retry_after is not None else self.base_delay * (2**attempt)
            delay = delay + random.uniform(0, self.base_delay)  # jitter: waves do not retry in step
            if retry_after is not None:
                bucket.hold(retry_after)
            if status == 429 and claimed and unclaim is not None:
                try:
                    await unclaim()
                    claimed = False
                except Exception as err:  # noqa: BLE001 - keep the claim: the retry needs no new one
                    log.warning("could not give a refused nudge's claim back: %s", without_message(err))
            await asyncio.sleep(delay)
            await bucket.take()
        return "failed"
