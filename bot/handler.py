"""The one activity handler: sets up each turn, then lets the router decide.

Turns of one conversation run one at a time (a lock per conversation), so two quick
messages from the same person never overwrite each other's dialog state.

**A click from someone the bot no longer knows.** A button or card (a message with a
`value`, or the answer to a file consent card) clicked in a personal chat
by a person with no stored document and no dialog running is a card from before their
deletion (by `slet mine data` or by retention): it is answered here, once for every kind
of click, with "that card is no longer active, type start", and nothing is stored, not
even the conversation. (A person the bot has only just greeted has a dialog running.)

**One read for a turn with no dialog waiting.** In the personal chat the person's document
is read first; when its `open_dialogs` list (model/domain/users.py) does not name this chat,
the chat's dialog state is not read: the turn starts from an empty one, and writes it only
if a dialog begins. Around the state's write the list is kept on the safe side of a crash
(`_save_state`). When this chat's last turn on this instance left a dialog waiting, the
document and the dialog state are read at once instead of one after the other (a state
read is never wrong, only sometimes not needed). Shared chats read their state as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
import weakref
from http import HTTPStatus

from botbuilder.core import ActivityHandler, ConversationState, InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ChannelAccount, ConversationReference

from dialogs.files import is_consent_answer, on_file_consent
from dialogs.router import Router
from dialogs.services import Services
from dialogs.turn import TURN, Turn, lang_of, turn_of
from model import content
from model.domain.users import dialog_listed, user_key
from model.storage.docstore import one_read_per_turn

from .captions import hold_captions, release_caption
from .sdk.activity_codec import to_json_dict
from .sdk.state_storage import drop_loaded, start_without_dialog

log = logging.getLogger("kompetencehjulet.bot")
_AT_TAG = re.compile(r"<at>[^<]{0,200}</at>", re.IGNORECASE)
WAITING_REMEMBERED = 10_000  # chats whose dialog is known to wait, kept per instance (oldest forgotten)


def tenant_of(activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = (data.get("tenant") or {}).get("id") if isinstance(data.get("tenant"), dict) else None
    return tenant or getattr(activity.conversation, "tenant_id", None)


def user_id_of(account: ChannelAccount | None) -> str:
    return (account.aad_object_id or account.id) if account else "unknown"


def is_personal_conversation(activity) -> bool:
    kind = getattr(activity.conversation, "conversation_type", None)
    return kind in (None, "", "personal")


def is_click(activity) -> bool:
    """A button or card submit (a message carrying a `value`), or an answer to our file
    consent card (the only invoke our cards make: their buttons are Action.Submit)."""
    if activity.type == "invoke":
        return activity.name == "fileConsent/invoke" and is_consent_answer(activity.value)
    return activity.type == "message" and activity.value is not None


def client_info(activity) -> dict:
    """Teams' clientInfo entity: locale and localTimezone (IANA)."""
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        if getattr(entity, "type", None) == "clientInfo":
            return {"locale": props.get("locale"), "timezone": props.get("timezone")}
    return {}


class KompetenceBot(ActivityHandler):
    def __init__(
        self, conversation_state: ConversationState, services: Services, upload_hosts: tuple[str, ...] | None = None
    ) -> None:
        """`upload_hosts`: where a file the person accepted may be uploaded (Config.upload_hosts);
        None, the default, allows loopback only (local mode, the terminal chat, `ask`)."""
        self.conversation_state = conversation_state
        self.services = services
        self.upload_hosts = upload_hosts
        self.router = Router(conversation_state)
        self._locks: "weakref.WeakValueDictionary[str, asyncio.Lock]" = weakref.WeakValueDictionary()
        self._waiting: dict[str, None] = {}  # state keys whose last turn here left a dialog waiting

    def _remember_waiting(self, state_key: str | None, waiting: bool) -> None:
        if not state_key:
            return
        self._waiting.pop(state_key, None)
        if waiting:
            self._waiting[state_key] = None
            if len(self._waiting) > WAITING_REMEMBERED:
                self._waiting.pop(next(iter(self._waiting)))

    def _lock(self, conversation_id: str) -> asyncio.Lock:
        lock = self._locks.get(conversation_id)
        if lock is None:
            lock = self._locks[conversation_id] = asyncio.Lock()
        return lock

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        async with self._lock(activity.conversation.id if activity.conversation else ""):
            with one_read_per_turn():  # the person's document is read once, not by every step
                await self._turn(turn_context)

    async def _turn(self, turn_context: TurnContext) -> None:
        turn_context.on_send_activities(_hard_line_breaks).on_send_activities(hold_captions)
        try:
            if not await self._prepare(turn_context):
                return  # a stale click, answered; nothing is stored
            await super().on_turn(turn_context)
        finally:
            await release_caption(turn_context)
        if turn_of(turn_context).deleted:
            self._remember_waiting(turn_of(turn_context).state_key, False)
            await self.conversation_state.delete(turn_context)  # nothing of the person may survive
        else:
            await self._save_state(turn_context)

    async def _save_state(self, context: TurnContext) -> None:
        """Write the dialog state if it changed, keeping the person's `open_dialogs` list on
        the safe side of a crash: this chat is listed before its state is written with a
        dialog in it, and taken off after its state is written empty. A crash between the
        two writes leaves it listed: the next turn reads the state once more, finds no
        dialog, and takes it off."""
        turn = turn_of(context)
        running = self._holds_dialog(context)
        if running is not None:
            self._remember_waiting(turn.state_key, running)
        doc = await self.services.users.get(turn.user_key) if turn.personal and running is not None else None
        listed = dialog_listed(doc, turn.state_key) if doc is not None and turn.state_key else None
        if listed is None or running == listed:
            await self.conversation_state.save_changes(context)
        elif running:
            await self.services.users.list_open_dialog(turn.user_key, str(turn.state_key), True)
            await self.conversation_state.save_changes(context)
        else:
            await self.conversation_state.save_changes(context)
            await self.services.users.list_open_dialog(turn.user_key, str(turn.state_key), False)

    def _holds_dialog(self, context: TurnContext) -> bool | None:
        """Whether this turn's dialog state has a dialog running; None when the turn never
        loaded the state (so it writes nothing)."""
        cached = self.conversation_state.get_cached_state(context)
        if cached is None:
            return None
        state = (cached.state or {}).get(self.router.dialog_state.name)
        return bool(getattr(state, "dialog_stack", None))

    async def _prepare(self, context: TurnContext) -> bool:
        """Set up the turn; False when it is over already (a stale click, answered)."""
        activity = context.activity
        tenant = tenant_of(activity)
        key = user_key(tenant, user_id_of(activity.from_property))
        personal = is_personal_conversation(activity)
        users = self.services.users
        state_key = self.conversation_state.get_storage_key(context) if personal else None
        if state_key in self._waiting:  # a dialog waited here after the last turn: read both at once
            (doc, recovered), _ = await asyncio.gather(users.load(key), self.conversation_state.load(context))
            if doc is None:  # deleted (or set aside) meanwhile: what was read of its dialog goes too
                drop_loaded(self.conversation_state, context)
        else:
            doc, recovered = await users.load(key) if personal else (None, False)
        info = client_info(activity)
        preferred = ((doc or {}).get("profile") or {}).get("language")
        turn = Turn(
            services=self.services,
            user_key=key,
            personal=personal,
            tenant=tenant,
            lang=preferred or content.normalise_language(activity.locale or info.get("locale")),
            timezone=info.get("timezone") or getattr(activity, "local_timezone", None),
            state_key=state_key,
        )
        context.turn_state[TURN] = turn
        unread = self.conversation_state.get_cached_state(context) is None
        if state_key and unread and dialog_listed(doc, state_key) is False:  # no dialog waiting here
            start_without_dialog(self.conversation_state, context, self.router.dialog_state.name)
        if recovered:  # their document could not be read and was set aside: say so, start afresh
            await context.send_activity(content.t(turn.lang, "msg.data_unreadable"))
        if personal and doc is None and is_click(activity) and not await self._dialog_running(context):
            await self._stale_click(context, turn.lang)
            return False
        if personal and activity.type == "message" and (doc or {}).get("retention_warned"):
            await context.send_activity(content.t(turn.lang, "retention.kept"))  # writing kept their data
        service_url = (activity.service_url or "").lower()
        if activity.type in ("message", "installationUpdate") and service_url.startswith(("http://", "https://")):
            reference = TurnContext.get_conversation_reference(activity)
            await users.remember_conversation(
                key,
                stored_reference(reference, tenant),
                turn.state_key,
                personal,
                doc,
                now=self.services.now(),
                dialog_running=lambda: self._dialog_running(context),
            )
            if personal and activity.type == "message":
                await self.services.reminders.resume_if_paused(key, doc, self.services.now())
        return True

    async def _dialog_running(self, context: TurnContext) -> bool:
        await self.conversation_state.load(context)
        state = await self.router.dialog_state.get(context)
        return bool(getattr(state, "dialog_stack", None))

    @staticmethod
    async def _stale_click(context: TurnContext, lang: str) -> None:
        """The answer to a click from someone the bot no longer knows (see the module
        docstring); an invoke also gets its invoke response."""
        await context.send_activity(content.t(lang, "msg.stale_click"))
        if context.activity.type == "invoke":
            await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200)))

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if not is_personal_conversation(activity):
            TurnContext.remove_recipient_mention(activity)
            if activity.text:  # a mention Teams sent without a matching entity
                activity.text = _AT_TAG.sub(" ", activity.text).strip()
        await self.router.on_message(turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse | None:
        """Teams' file consent (the person accepted or declined a file); the rest is the SDK's,
        except that what it does not implement (Universal Actions, message extensions, task
        modules, sign-in, unknown names) is a 400, not its 501: a request the bot does not
        take, not a fault of the server. For `adaptiveCard/action` the body is in the
        Universal Actions error format."""
        if turn_context.activity.name == "fileConsent/invoke" and is_personal_conversation(turn_context.activity):
            return InvokeResponse(status=await on_file_consent(turn_context, self.upload_hosts))
        response = await super().on_invoke_activity(turn_context)
        if response is not None and response.status == HTTPStatus.NOT_IMPLEMENTED:
            body = None
            if turn_context.activity.name == "adaptiveCard/action":
                body = {
                    "statusCode": 400,
                    "type": "application/vnd.microsoft.error",
                    "value": {"code": "NotSupported", "message": "This bot's cards do not use Action.Execute"},
                }
            return InvokeResponse(status=HTTPStatus.BAD_REQUEST, body=body)
        return response

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        if is_personal_conversation(turn_context.activity):
            await self.router.greet_if_new(turn_context)
        else:
            await turn_context.send_activity(content.t(lang_of(turn_context), "msg.welcome_team"))

    async def on_installation_update_remove(self, turn_context: TurnContext) -> None:
        """Uninstalled: no more nudges (the person can reinstall and set them again)."""
        if is_personal_conversation(turn_context.activity):
            await self.services.reminders.pause(turn_of(turn_context).user_key, "uninstalled", self.services.now())

    async def on_members_added_activity(self, members_added: list[ChannelAccount], turn_context: TurnContext) -> None:
        """Personal chat: greet once (installationUpdate may come too; greet_if_new sees the
        running onboarding and stays quiet). Team/group: greeting is installationUpdate's job,
        so new members of a team are not greeted one by one."""
        if is_personal_conversation(turn_context.activity) and members_added:
            await self.router.greet_if_new(turn_context)


_SINGLE_NEWLINE = re.compile(r"(?<![\n ])\n(?!\n)")


async def _hard_line_breaks(context: TurnContext, activities: list, next_send):
    """Our texts use single newlines for line breaks; Markdown (Web Chat, Teams mobile)
    would join those lines, so make them hard breaks (two spaces before the newline)."""
    for outgoing in activities:
        if getattr(outgoing, "text", None):
            outgoing.text = _SINGLE_NEWLINE.sub("  \n", outgoing.text)
    return await next_send()


REFERENCE_DROPS = ("name", "role")  # of user and bot: a nudge needs the ids, never anyone's name


def stored_reference(reference: ConversationReference, tenant: str | None) -> dict:
    """What a nudge needs to reach the person, and no more: ids, tenant, channel, service URL.
    The tenant is written as `conversation.tenantId` (the SDK would write `tenantID` or
    nothing), where the nudge sender paces per tenant and retention finds whose it is."""
    data = to_json_dict(reference)
    data.pop("activityId", None)  # changes every turn; not needed to write first
    for who in ("user", "bot"):
        for field in REFERENCE_DROPS:
            (data.get(who) or {}).pop(field, None)
    conversation = data.setdefault("conversation", {})
    conversation.pop("name", None)
    conversation.pop("tenantID", None)
    if tenant:
        conversation["tenantId"] = tenant
    return data
