//! The query engine over a site's store: DataFusion SQL and the cohort fast path.
