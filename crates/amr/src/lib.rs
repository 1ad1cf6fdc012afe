//! Antimicrobial resistance: organisms, antimicrobials, breakpoints, S/I/R, first isolates, antibiograms, MDRO.
