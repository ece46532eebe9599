"""The production Teams bot: configuration, composition root, HTTP host, input checks,
authentication, the activity handler, the nudge sender and its scheduler.
Sub-packages: `sdk` (Bot Framework internals), `local` (try-out channels, local mode only),
`ops` (operator tools)."""
