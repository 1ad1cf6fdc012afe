# Peer for crates/amr/benches/amr.rs: the R AMR package's as.sir() on the same 1,000,000 MICs
# (/tmp/amr-bench-mics.csv, written by the Rust bench). Needs AMR installed (R_LIBS).
# Run: R_LIBS=/path/to/lib Rscript bench/amr_peer.R [EUCAST 2025|CLSI 2025]
suppressPackageStartupMessages(library(AMR))
args <- commandArgs(trailingOnly = TRUE)
guideline <- if (length(args) > 0) paste(args, collapse = " ") else "EUCAST 2025"
d <- read.csv("/tmp/amr-bench-mics.csv", stringsAsFactors = FALSE)
t0 <- Sys.time()
m <- as.mic(d$mic)
t1 <- Sys.time()
out <- rep(NA_character_, nrow(d))
for (key in unique(paste(d$mo, d$ab))) {
  i <- which(paste(d$mo, d$ab) == key)
  out[i] <- as.character(suppressMessages(suppressWarnings(as.sir(m[i], mo = d$mo[i[1]], ab = d$ab[i[1]], guideline = guideline))))
}
t2 <- Sys.time()
cat(sprintf("AMR %s %s: %d MICs; as.mic %.1f s; as.sir %.1f s = %.3f M/s; %s\n", packageVersion("AMR"), guideline, nrow(d),
            as.numeric(t1 - t0, units = "secs"), as.numeric(t2 - t1, units = "secs"), nrow(d) / as.numeric(t2 - t1, units = "secs") / 1e6,
            paste(names(table(out, useNA = "ifany")), table(out, useNA = "ifany"), collapse = ", ")))
