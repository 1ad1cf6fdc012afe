//! MEM on flucyl: kakehashi against the R package `mem` in the same run.
//!
//! `cargo bench -p kakehashi-surveillance --bench mem` times `mem_model` on the 8 flucyl seasons
//! (defaults) and, when `Rscript` with the `mem` package is installed, times `memmodel(flucyl)`
//! the same number of times inside one R process and prints the ratio. Without R it prints our
//! figure alone and says that the peer was not run.

use kakehashi_surveillance::mem::{MemParams, mem_model, parse_table};
use std::process::Command;
use std::time::Instant;

fn main() {
    let text = include_str!("../data/flucyl.csv");
    let input = parse_table(text).expect("flucyl parses");
    let params = MemParams::default();
    let reps = 2000usize;
    // Warm up, then time.
    let m = mem_model(&input, &params).expect("mem runs");
    let t0 = Instant::now();
    let mut sink = 0.0;
    for _ in 0..reps {
        sink += mem_model(&input, &params)
            .expect("mem runs")
            .thresholds
            .epidemic
            .unwrap_or(0.0);
    }
    let ours = t0.elapsed().as_secs_f64() / reps as f64;
    println!(
        "kakehashi mem_model(flucyl): {:.1} µs per model ({} reps; epidemic threshold {:.4}; check {:.1})",
        ours * 1e6,
        reps,
        m.thresholds.epidemic.unwrap_or(f64::NAN),
        sink
    );

    let r_reps = 50usize;
    let script = format!(
        "suppressMessages(library(mem)); data(flucyl); invisible(memmodel(flucyl)); \
         t <- system.time(for (i in 1:{r_reps}) m <- memmodel(flucyl))[['elapsed']]; \
         cat(t / {r_reps}, m$epidemic.thresholds[1], '\\n')"
    );
    match Command::new("Rscript").arg("-e").arg(&script).output() {
        Ok(out) if out.status.success() => {
            let s = String::from_utf8_lossy(&out.stdout);
            let mut it = s.split_whitespace();
            let r: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            let thr: f64 = it.next().and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
            println!(
                "R mem memmodel(flucyl):      {:.1} µs per model ({} reps; epidemic threshold {:.4})",
                r * 1e6,
                r_reps,
                thr
            );
            println!("ratio R / kakehashi: {:.0}x", r / ours);
        }
        Ok(out) => println!(
            "peer not run: Rscript failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(e) => println!(
            "peer not run: Rscript not found ({e}); install r-base-core and the mem package to compare"
        ),
    }
}
