//! DataFusion SQL over a site snapshot: one table per standard view.
