//! MII CCDL model, validation and compilation to a cohort plan over the site schema.
