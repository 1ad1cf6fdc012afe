//! Every built-in profile's output loads with zero rejected lines, through the real binary.

use std::process::Command;

#[test]
fn synth_output_of_every_profile_ingests_without_rejections() {
    let tmp = tempfile::tempdir().unwrap();
    for profile in ["de-berlin", "de-frankfurt", "jp-tokyo", "jp-osaka"] {
        let out = tmp.path().join(format!("{profile}-fhir"));
        let site = tmp.path().join(profile);
        let s = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .args([
                "synth",
                "--profile",
                profile,
                "--patients",
                "2000",
                "--seed",
                "3",
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            s.status.success(),
            "{profile}: {}",
            String::from_utf8_lossy(&s.stderr)
        );
        let i = Command::new(env!("CARGO_BIN_EXE_kakehashi"))
            .args([
                "ingest",
                "--json",
                "--site-dir",
                site.to_str().unwrap(),
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(
            i.status.code(),
            Some(0),
            "{profile}: {}{}",
            String::from_utf8_lossy(&i.stdout),
            String::from_utf8_lossy(&i.stderr)
        );
        let summary: serde_json::Value = serde_json::from_slice(&i.stdout).unwrap();
        assert_eq!(summary["rejected"], 0, "{profile}: {summary}");
        // 2,000 generated patients and the SARI admissions of their catchment, as synth reports
        let said = String::from_utf8_lossy(&s.stdout);
        let total: u64 = said
            .split(" patients (")
            .next()
            .and_then(|h| h.rsplit(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{profile}: no patient count in {said}"));
        assert!(total > 2000, "{profile}: {said}");
        assert_eq!(summary["stored"]["Patient"], total, "{profile}");
        assert!(
            summary["rows"]["microbiology_susceptibility"]
                .as_u64()
                .unwrap()
                > 100,
            "{profile}: isolates with MICs"
        );
    }
}
