//! Surveillance over a site snapshot: weekly series from encounters, diagnoses and labs.
