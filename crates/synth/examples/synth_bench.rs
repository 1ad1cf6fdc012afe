//! Generation speed: `cargo run --release -p kakehashi-synth --example synth_bench -- PROFILE PATIENTS OUT_DIR`.
//! Prints patients, resources, seconds and resources/s (the figures in BENCHMARKS.md).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let profile = args.get(1).map(String::as_str).unwrap_or("de-berlin");
    let patients: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let out = std::path::PathBuf::from(
        args.get(3)
            .map(String::as_str)
            .unwrap_or("/tmp/kh-synth-bench"),
    );
    let p = kakehashi_synth::Profile::load(profile).expect("profile");
    let t = std::time::Instant::now();
    let s = kakehashi_synth::generate(&p, patients, 1, &out, &|_| {}).expect("generate");
    let secs = t.elapsed().as_secs_f64();
    let bytes: u64 = s
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{profile}: {patients} patients, {} resources, {:.1} GB, {secs:.1} s, {:.0} resources/s, threads {}",
        s.total(),
        bytes as f64 / 1e9,
        s.total() as f64 / secs,
        rayon_threads()
    );
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
