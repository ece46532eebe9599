"""What each chat's last answer was about, so a follow-up ("og for mig?", "how do I get
better at it?") is read against it (model/language/follow_up.py).

Kept in this process's memory only, never stored: ids (sub-area, competence, glossary word,
job, area question, what a "Mente du ...?" offered) and a kind of question, for the next
message only and within RECENT_MINUTES of the answer; each answer clears the expired
entries. Reading and writing it costs no storage round trip on a question's turn. What that
costs: after a restart, or when the follow-up reaches another instance of a scaled-out bot,
the follow-up is read on its own, as it was before this existed. The person's own deletion
drops their entries (a hook of Users); an erasure from the command line runs in another
process, and what it cannot reach here is never used after RECENT_MINUTES.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

from model.language.follow_up import Recent

RECENT_MINUTES = 30  # a follow-up comes within minutes; after a break a message starts afresh
MAX_CHATS = 20_000  # the oldest chats are forgotten first beyond this (about 2 MB)


class RecentTopics:
    def __init__(self, minutes: int = RECENT_MINUTES, max_chats: int = MAX_CHATS) -> None:
        self._ttl = timedelta(minutes=minutes)
        self._max = max_chats
        self._by_chat: OrderedDict[tuple[str, str], tuple[Recent, datetime]] = OrderedDict()

    def take(self, user_key: str, chat: str, now: datetime) -> Recent | None:
        """The chat's last answer, forgotten as it is read: it counts for the next message only
        (an answer to that message is remembered anew)."""
        found = self._by_chat.pop((user_key, chat), None)
        if found is None or now - found[1] > self._ttl:
            return None
        return found[0]

    def remember(self, user_key: str, chat: str, recent: Recent | None, now: datetime) -> None:
        """`recent` None: the last answer was about nothing one can point back at (a comparison)."""
        key = (user_key, chat)
        self._by_chat.pop(key, None)
        if recent is None:
            return
        self._by_chat[key] = (recent, now)
        while len(self._by_chat) > self._max:
            self._by_chat.popitem(last=False)
        # oldest first (each entry is put last when written): the expired ones go now
        while self._by_chat and now - next(iter(self._by_chat.values()))[1] > self._ttl:
            self._by_chat.popitem(last=False)

    async def forget(self, user_key: str, doc: object = None) -> None:
        """Users' deletion hook: every chat of the person."""
        for key in [k for k in self._by_chat if k[0] == user_key]:
            del self._by_chat[key]

    def __len__(self) -> int:
        return len(self._by_chat)
