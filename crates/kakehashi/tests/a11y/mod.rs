//! Accessibility and Japanese-glyph checks of the UI test's pages, run inside the WebDriver
//! session: axe-core is injected into each page (`execute/sync` with the script's text) and run
//! there (`execute/async`); the glyph check draws the page's own Japanese characters on a canvas
//! in the page's font and compares them.

use super::Browser;
use reqwest::Method;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Where `.ci/run` puts axe-core (`npm install --prefix .ci/axe axe-core@4`, a gitignored folder).
fn axe_path() -> PathBuf {
    match std::env::var_os("KAKEHASHI_AXE") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../.ci/axe/node_modules/axe-core/axe.min.js"),
    }
}

/// axe-core's script and every violation it found so far.
pub struct Axe {
    script: String,
    pages: usize,
    /// "page: rule (impact)" for each serious or critical violation.
    blocking: Vec<String>,
    /// How many minor or moderate violations were printed.
    advisory: usize,
}

impl Axe {
    /// axe-core read from `KAKEHASHI_AXE` or `.ci/axe/…/axe.min.js`; `None`, with a visible
    /// message, when it is not there (with `CI` or `KAKEHASHI_REQUIRE_AXE` set, as `.ci/run`
    /// does after installing it, that is an error).
    pub fn load() -> Option<Axe> {
        let path = axe_path();
        match std::fs::read_to_string(&path) {
            Ok(script) => Some(Axe {
                script,
                pages: 0,
                blocking: Vec::new(),
                advisory: 0,
            }),
            Err(e) => {
                let msg = format!(
                    "accessibility check SKIPPED: axe-core not found at {} ({e}); install it with \
                     `npm install --prefix .ci/axe axe-core@4` (.ci/run does) or set KAKEHASHI_AXE",
                    path.display()
                );
                // `.ci/run` sets KAKEHASHI_REQUIRE_AXE=1 (and CI services set CI): there a
                // missing axe-core fails the test instead of skipping the check
                assert!(
                    std::env::var_os("CI").is_none()
                        && std::env::var_os("KAKEHASHI_REQUIRE_AXE").is_none(),
                    "{msg}"
                );
                eprintln!("\n*** {msg} ***\n");
                None
            }
        }
    }

    /// Runs axe-core on the page the browser shows and records its violations under `name`.
    pub async fn check(&mut self, b: &Browser, name: &str) {
        b.call(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": self.script, "args": []})),
        )
        .await;
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {resultTypes: ['violations']})
              .then(r => done({passes: r.passes.length, incomplete: r.incomplete.map(v => v.id + ' (' + v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + ((n.any[0] || {}).message || '')).join('; ') + ')'),
                  violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                            summary: (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 240)}))}))}))
              .catch(e => done({error: String(e)}));";
        let v = b
            .call(
                Method::POST,
                "/execute/async",
                Some(json!({"script": script, "args": []})),
            )
            .await;
        let violations = v["violations"]
            .as_array()
            .unwrap_or_else(|| panic!("axe-core on {name} failed: {v}"));
        let passes = v["passes"].as_u64().unwrap_or(0);
        // A page on which no rule applied means axe-core did not look at it.
        assert!(
            passes >= 10,
            "axe-core on {name}: only {passes} rule(s) passed; did it run on the page? {v}"
        );
        let review: Vec<&str> = v["incomplete"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        eprintln!(
            "a11y {name}: {} violation(s), {passes} rule(s) passed, to review by hand: {}",
            violations.len(),
            if review.is_empty() {
                "-".to_owned()
            } else {
                review.join(", ")
            }
        );
        self.pages += 1;
        for viol in violations {
            let (id, impact) = (
                viol["id"].as_str().unwrap_or("?"),
                viol["impact"].as_str().unwrap_or("?"),
            );
            let nodes = viol["nodes"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            eprintln!(
                "a11y {name}: {id} ({impact}, {} node(s)): {}",
                nodes.len(),
                viol["help"].as_str().unwrap_or("")
            );
            for n in nodes.iter().take(5) {
                eprintln!(
                    "    {}  {}\n      {}",
                    n["target"].as_str().unwrap_or(""),
                    n["html"].as_str().unwrap_or(""),
                    n["summary"].as_str().unwrap_or("")
                );
            }
            if matches!(impact, "serious" | "critical") {
                self.blocking
                    .push(format!("{name}: {id} ({impact}, {} node(s))", nodes.len()));
            } else {
                self.advisory += 1;
            }
        }
    }

    /// Fails when any checked page had a serious or critical violation (all are printed above).
    pub fn assert_clean(&self) {
        eprintln!(
            "a11y: {} page(s) checked with axe-core, {} serious/critical and {} minor/moderate violation(s)",
            self.pages,
            self.blocking.len(),
            self.advisory
        );
        assert!(self.pages > 0, "axe-core checked no page");
        assert!(
            self.blocking.is_empty(),
            "serious or critical accessibility violations (details above):\n{}",
            self.blocking.join("\n")
        );
    }
}

/// Checks that the Japanese characters of the page (in its `<main>` and header) render as real
/// glyphs: each distinct character is drawn in its element's computed font on a canvas, and the
/// drawings must all differ from each other and from blank. Without a CJK font every character
/// comes out as the same "tofu" box (or nothing), so this fails. Returns the characters checked.
pub async fn assert_japanese_glyphs(b: &Browser, name: &str) -> String {
    let script = r#"
        const cjk = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]/;
        const found = new Map();
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walker.nextNode() && found.size < 12) {
          const node = walker.currentNode;
          for (const ch of node.textContent) {
            if (cjk.test(ch) && !found.has(ch)) {
              const s = getComputedStyle(node.parentElement);
              found.set(ch, `48px ${s.fontFamily}`);
            }
          }
        }
        const canvas = document.createElement('canvas');
        canvas.width = 64; canvas.height = 64;
        const ctx = canvas.getContext('2d', {willReadFrequently: true});
        const prints = [];
        let blank = 0;
        for (const [ch, font] of found) {
          ctx.clearRect(0, 0, 64, 64);
          ctx.font = font;
          ctx.fillStyle = '#000';
          ctx.textBaseline = 'top';
          ctx.fillText(ch, 4, 4);
          const px = ctx.getImageData(0, 0, 64, 64).data;
          let ink = 0, hash = 2166136261;
          for (let i = 3; i < px.length; i += 4) {
            if (px[i] > 0) ink++;
            hash = Math.imul(hash ^ px[i], 16777619) >>> 0;
          }
          if (ink === 0) blank++;
          prints.push(hash);
        }
        return {chars: [...found.keys()].join(''), distinct: new Set(prints).size, blank};
    "#;
    let v = b
        .call(
            Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await;
    let chars = v["chars"].as_str().unwrap_or_default().to_owned();
    let n = chars.chars().count() as u64;
    assert!(
        n >= 4,
        "{name}: the Japanese page has Japanese text to check: {v}"
    );
    assert_eq!(
        v["blank"].as_u64(),
        Some(0),
        "{name}: Japanese characters drawn as nothing ({chars}); is a CJK font installed (Debian fonts-noto-cjk)?"
    );
    assert_eq!(
        v["distinct"].as_u64(),
        Some(n),
        "{name}: Japanese characters {chars} are not drawn as distinct glyphs (\"tofu\" boxes): install a CJK font (Debian fonts-noto-cjk; .ci/run does)"
    );
    chars
}
