//! Cohort counts over a site snapshot: evaluation of a compiled CCDL plan.
