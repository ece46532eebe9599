"""The HTTP host, one module per job: /api/messages with strict input checks, /healthz
(alive), /readyz (can store).

A request to /api/messages goes through these steps, and each step answers for itself:

1. **the token, before the body** (`gate.Gate.before_body`): `auth.header_problem` (401
   for what can never be a valid token), then `Authenticator.before_body`, the token's
   signature, key and expiry checked as the SDK will (401; 503 when the signing keys cannot
   be fetched), all before a byte of the body is read, so a forged token costs no more
   than no token;
2. **read** (`reading.read_activity`, with `bot/activity_checks.py`): content type (415),
   size (413), deadline (408), JSON (400), list lengths and size, activity shape (400); in
   local mode a loopback `serviceUrl` (400);
3. **authenticate** (`gate.Gate.after_body`, `bot/auth.py`, the SDK): what needs the
   activity (the `serviceurl` claim, endorsements, audience, issuer): 401, or 503 when the
   signing keys cannot be fetched;
4. **turn** (`turn.run_turn`): the already-authenticated activity goes to the adapter;
   failures inside the bot are the adapter's on_turn_error's job (an apology, 2xx).

Refusals (401) are logged through `auth.RefusalLog`: at most a line a minute, with a count
of the refusals since the last line (`app[REFUSALS]`).

The modules: `app` (the routes and the steps above in order), `responses` (the error
bodies), `gate`, `reading`, `turn`, `readiness` (/readyz), `serving` (how `python app.py`
serves: deadlines for slow clients, a connection cap, the open-files limit) and
`log_repeats` (asyncio's and aiohttp's repeated error records once a minute).
"""
