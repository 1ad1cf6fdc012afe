//! The site store: one Parquet table per view, atomic snapshots by manifest switch.
