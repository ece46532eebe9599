"""Every collection that holds data, and the one module that writes each.

- "users" (`USERS`): one document per person, parts owned as `model.domain.users` lists;
- "state" (`STATE`): the dialog state of one conversation (or one person in a shared chat),
  written by `bot/sdk/state_storage.py` for botbuilder's ConversationState/UserState; the
  person's document lists the ones their chats left (`state_keys`), so deletion finds them;
- "schedule" (`SCHEDULE`): the reminders' due-time index and run progress, `model.domain.reminders`;
- "reports" (`REPORTS`): the overviews' release ledgers, `model.domain.aggregates`;
- "teams" (`TEAMS`): team rosters of hashed member names, `model.domain.aggregates`.

`python app.py migrate` copies exactly these. Two more hold nothing about anyone and are
not copied: the readiness probe's documents (made and removed by each check) and
"claims" (`model.storage.claims`: who leads a job or sends a share of a nudge wave, each
claim expiring by itself).
"""

from __future__ import annotations

from model.domain.aggregates import REPORTS, TEAMS
from model.domain.reminders import SCHEDULE
from model.domain.users import USERS
from model.storage.docstore import STATE

COLLECTIONS = (USERS, STATE, SCHEDULE, REPORTS, TEAMS)
