//! The site: ingest pipeline and the agent that pulls tasks from the hub.
