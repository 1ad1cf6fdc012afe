//! Ingest without the CLI around it, for profiling: `ingest_bench SITE_DIR INPUT...`.
//! Prints resources/s and the rows per view. `bench/ingest.sh` is the benchmark of record.

fn main() {
    let args: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    let Some((site, inputs)) = args.split_first() else {
        eprintln!("usage: ingest_bench SITE_DIR INPUT...");
        std::process::exit(2);
    };
    let mut opts = kakehashi_ingest::IngestOptions::default();
    // for experiments: chunk size, worker threads and batch rows from the environment
    if let Some(kb) = std::env::var("KH_CHUNK_KB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        opts.chunk_bytes = kb << 10;
    }
    if let Some(t) = std::env::var("KH_THREADS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        opts.threads = t;
    }
    if let Some(r) = std::env::var("KH_BATCH_ROWS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        opts.batch_rows = r;
    }
    match kakehashi_ingest::ingest(site, inputs, &opts, &|_| {}) {
        Ok(s) => {
            let n: u64 =
                s.stored.values().sum::<u64>() + s.not_viewed.values().sum::<u64>() + s.rejected;
            let secs = s.elapsed.as_secs_f64();
            println!(
                "{n} resources, {} MB in {secs:.2} s: {:.0} resources/s, {:.0} MB/s",
                s.bytes / 1_000_000,
                n as f64 / secs,
                s.bytes as f64 / 1e6 / secs
            );
            println!("rejected {}; rows {:?}", s.rejected, s.rows);
        }
        Err(e) => {
            eprintln!("ingest failed: {e}");
            std::process::exit(1);
        }
    }
}
