//! The hub: HTTP API, web UI, auth, task queue, result merging, audit, SQLite state.
