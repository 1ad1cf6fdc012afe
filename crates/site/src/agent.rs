//! The site agent: long-polls the hub for tasks, runs them locally, gates and signs results.
