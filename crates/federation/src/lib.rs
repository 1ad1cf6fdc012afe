//! Wire protocol between hub and sites: typed tasks, signed result envelopes.
