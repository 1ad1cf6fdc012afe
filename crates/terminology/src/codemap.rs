//! Versioned code maps as data files: one format for every map the network ships or loads
//! (ICD-10-GM ↔ WHO ICD-10, JLAC10 → LOINC, ICD-11 ↔ ICD-10).
//!
//! A map file is UTF-8 text, tab-separated:
//!
//! ```text
//! # map: icd10gm-who
//! # version: ICD-10-GM 2025/2026 to WHO ICD-10 2019; kakehashi 2026-06
//! # source: BfArM ICD-10-GM 2025 and 2026; WHO ICD-10 2019
//! # licence: codes and titles of the classifications (see README)
//! # any further `key: value` line is kept as header information
//! icd10_gm<TAB>icd10_who<TAB>mapping<TAB>title_en<TAB>source
//! U07.1<TAB>U07.1<TAB>equal<TAB>COVID-19, virus identified<TAB>WHO ICD-10 2019 chapter XXII
//! ```
//!
//! - The header is the `# key: value` lines before the column row; `map`, `version`, `source`
//!   and `licence` are required. Other `#` lines are comments, anywhere.
//! - The column row names the columns. The first is the source code, the second the target
//!   code, the third `mapping`: how the target relates to the source — `equal`, `narrower` (the
//!   target means less than the source), `broader` (the target means more) or `none` (no target
//!   in that system; the target cell is empty). Every further column whose name ends in
//!   `_mapping` holds a mapping type too.
//! - One row per source code: a second row for the same source code is an error.
//!
//! Every error names the file and the line.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// How a target code relates to its source code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MapType {
    /// The same meaning.
    Equal,
    /// The target means less than the source (it is one of the source's cases).
    Narrower,
    /// The target means more than the source (the source is one of its cases).
    Broader,
    /// No target code in that system.
    None,
}

impl MapType {
    /// Every type, in the order the files document them.
    pub const ALL: [MapType; 4] = [
        MapType::Equal,
        MapType::Narrower,
        MapType::Broader,
        MapType::None,
    ];

    /// The word the files use.
    pub fn as_str(self) -> &'static str {
        match self {
            MapType::Equal => "equal",
            MapType::Narrower => "narrower",
            MapType::Broader => "broader",
            MapType::None => "none",
        }
    }

    /// Whether every case of the target is a case of the source (equal or narrower): a criterion
    /// on the source may then match data coded with the target.
    pub fn target_within_source(self) -> bool {
        matches!(self, MapType::Equal | MapType::Narrower)
    }
}

impl fmt::Display for MapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MapType {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        MapType::ALL.into_iter().find(|t| t.as_str() == s).ok_or(())
    }
}

/// Why a map file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// A required header field is missing.
    #[error(
        "{file}:{line}: missing header field `# {key}: ...` (every map file states map, version, source and licence before its column row)"
    )]
    MissingHeader {
        /// The file.
        file: String,
        /// The line where the header ended (the column row, or 1).
        line: usize,
        /// The missing key.
        key: &'static str,
    },
    /// The column row is not usable.
    #[error("{file}:{line}: column row: {message}")]
    Columns {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A row has the wrong number of cells or an empty source code.
    #[error("{file}:{line}: {message}")]
    Row {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A mapping cell holds no mapping type.
    #[error(
        "{file}:{line}: column {column}: {value:?} is not a mapping type (equal, narrower, broader, none)"
    )]
    BadMapping {
        /// The file.
        file: String,
        /// The line.
        line: usize,
        /// The column.
        column: String,
        /// The value found.
        value: String,
    },
    /// A source code appears twice.
    #[error("{file}:{line}: source code {code:?} is already mapped on line {first}")]
    Duplicate {
        /// The file.
        file: String,
        /// The line of the second row.
        line: usize,
        /// The code.
        code: String,
        /// The line of the first row.
        first: usize,
    },
}

/// One row of a map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapRow {
    /// Line in the file (1-based).
    pub line: usize,
    /// The cells, one per column.
    pub cells: Vec<String>,
    /// The row's `mapping`.
    pub mapping: MapType,
}

impl MapRow {
    /// The source code.
    pub fn source(&self) -> &str {
        &self.cells[0]
    }

    /// The target code (`None` when empty).
    pub fn target(&self) -> Option<&str> {
        Some(self.cells[1].as_str()).filter(|s| !s.is_empty())
    }
}

/// A parsed map file.
#[derive(Debug, Clone)]
pub struct CodeMap {
    /// The file it was read from (for messages).
    pub file: String,
    /// Header fields (`map`, `version`, `source`, `licence`, ...).
    pub header: BTreeMap<String, String>,
    /// Column names.
    pub columns: Vec<String>,
    /// Rows in file order.
    pub rows: Vec<MapRow>,
    by_source: HashMap<String, usize>,
}

/// The header fields every map file must state.
pub const REQUIRED_HEADER: [&str; 4] = ["map", "version", "source", "licence"];

impl CodeMap {
    /// Reads a map file.
    pub fn load(path: &Path) -> Result<CodeMap, MapError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MapError::Io {
            file: file.clone(),
            source,
        })?;
        CodeMap::parse(&file, &text)
    }

    /// Parses map text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<CodeMap, MapError> {
        let f = || file.to_owned();
        let mut header = BTreeMap::new();
        let mut columns: Option<(usize, Vec<String>)> = None;
        let mut rows: Vec<MapRow> = Vec::new();
        let mut by_source: HashMap<String, usize> = HashMap::new();
        let mut mapping_cols: Vec<usize> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim_end_matches('\r');
            if let Some(comment) = l.strip_prefix('#') {
                if columns.is_none()
                    && let Some((k, v)) = comment.trim().split_once(':')
                {
                    let k = k.trim();
                    if !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        header.insert(k.to_owned(), v.trim().to_owned());
                    }
                }
                continue;
            }
            if l.trim().is_empty() {
                continue;
            }
            let cells: Vec<String> = l.split('\t').map(|c| c.trim().to_owned()).collect();
            let Some((_, cols)) = &columns else {
                for key in REQUIRED_HEADER {
                    if header.get(key).is_none_or(|v| v.is_empty()) {
                        return Err(MapError::MissingHeader {
                            file: f(),
                            line,
                            key,
                        });
                    }
                }
                if cells.len() < 3 || cells[2] != "mapping" {
                    return Err(MapError::Columns {
                        file: f(),
                        line,
                        message: format!(
                            "needs at least three columns, source, target and `mapping` (found {:?})",
                            cells
                        ),
                    });
                }
                if let Some(d) = cells
                    .iter()
                    .enumerate()
                    .find(|(j, c)| c.is_empty() || cells[..*j].contains(c))
                {
                    return Err(MapError::Columns {
                        file: f(),
                        line,
                        message: format!("column {} is empty or named twice ({:?})", d.0 + 1, d.1),
                    });
                }
                mapping_cols = cells
                    .iter()
                    .enumerate()
                    .filter(|(j, c)| *j == 2 || c.ends_with("_mapping"))
                    .map(|(j, _)| j)
                    .collect();
                columns = Some((line, cells));
                continue;
            };
            if cells.len() != cols.len() {
                return Err(MapError::Row {
                    file: f(),
                    line,
                    message: format!(
                        "{} cells, the column row has {} ({})",
                        cells.len(),
                        cols.len(),
                        cols.join(", ")
                    ),
                });
            }
            if cells[0].is_empty() {
                return Err(MapError::Row {
                    file: f(),
                    line,
                    message: format!("empty source code (column {})", cols[0]),
                });
            }
            let mut types = Vec::with_capacity(mapping_cols.len());
            for &j in &mapping_cols {
                let t: MapType = cells[j].parse().map_err(|()| MapError::BadMapping {
                    file: f(),
                    line,
                    column: cols[j].clone(),
                    value: cells[j].clone(),
                })?;
                types.push(t);
            }
            let mapping = types[0];
            if (mapping == MapType::None) != cells[1].is_empty() {
                return Err(MapError::Row {
                    file: f(),
                    line,
                    message: format!(
                        "mapping {mapping} with target {:?}: `none` takes an empty target, every other type a target code",
                        cells[1]
                    ),
                });
            }
            if let Some(&first) = by_source.get(&cells[0]) {
                return Err(MapError::Duplicate {
                    file: f(),
                    line,
                    code: cells[0].clone(),
                    first: rows[first].line,
                });
            }
            by_source.insert(cells[0].clone(), rows.len());
            rows.push(MapRow {
                line,
                cells,
                mapping,
            });
        }
        let Some((_, columns)) = columns else {
            for key in REQUIRED_HEADER {
                if header.get(key).is_none_or(|v| v.is_empty()) {
                    return Err(MapError::MissingHeader {
                        file: f(),
                        line: text.lines().count().max(1),
                        key,
                    });
                }
            }
            return Err(MapError::Columns {
                file: f(),
                line: text.lines().count().max(1),
                message: "no column row".into(),
            });
        };
        Ok(CodeMap {
            file: f(),
            header,
            columns,
            rows,
            by_source,
        })
    }

    /// The row of a source code.
    pub fn get(&self, source: &str) -> Option<&MapRow> {
        self.by_source.get(source).map(|&i| &self.rows[i])
    }

    /// A cell of a row by column name (`None` when the column is absent or the cell empty).
    pub fn cell<'a>(&self, row: &'a MapRow, column: &str) -> Option<&'a str> {
        let j = self.columns.iter().position(|c| c == column)?;
        Some(row.cells[j].as_str()).filter(|s| !s.is_empty())
    }

    /// A `_mapping` column of a row.
    pub fn mapping_in(&self, row: &MapRow, column: &str) -> Option<MapType> {
        self.cell(row, column)?.parse().ok()
    }

    /// A header field.
    pub fn header(&self, key: &str) -> Option<&str> {
        self.header.get(key).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "# map: t\n# version: 1\n# source: test\n# licence: CC0\n";

    #[test]
    fn a_valid_map_parses_with_comments_and_extra_columns() {
        let m = CodeMap::parse("t.tsv", &format!("{HEAD}a\tb\tmapping\tx_mapping\tnote\n# comment\nA1\tB1\tequal\tnone\thi\nA2\t\tnone\tbroader\t\n")).unwrap();
        assert_eq!(m.rows.len(), 2);
        assert_eq!(m.get("A1").unwrap().target(), Some("B1"));
        assert_eq!(m.get("A2").unwrap().mapping, MapType::None);
        assert_eq!(
            m.mapping_in(m.get("A2").unwrap(), "x_mapping"),
            Some(MapType::Broader)
        );
        assert_eq!(m.cell(m.get("A1").unwrap(), "note"), Some("hi"));
        assert_eq!(m.header("licence"), Some("CC0"));
    }

    #[test]
    fn every_shipped_map_loads_from_its_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data");
        for f in ["icd10gm-who.tsv", "jlac10-loinc.tsv", "icd11-icd10.tsv"] {
            let m = CodeMap::load(&dir.join(f)).unwrap_or_else(|e| panic!("{e}"));
            assert!(!m.rows.is_empty(), "{f}");
            assert!(
                m.header("map").is_some_and(|n| f.starts_with(n)),
                "{f}: map name"
            );
        }
        let e = CodeMap::load(&dir.join("no-such-map.tsv"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no-such-map.tsv"), "{e}");
    }

    #[test]
    fn bad_input_names_file_and_line() {
        let e = CodeMap::parse(
            "m.tsv",
            &format!("{HEAD}a\tb\tmapping\nA\tB\tequal\nA\tC\tequal\n"),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "m.tsv:7: source code \"A\" is already mapped on line 6");
        let e = CodeMap::parse("m.tsv", &format!("{HEAD}a\tb\tmapping\nA\tB\tsame\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.tsv:6: column mapping: \"same\" is not a mapping type"),
            "{e}"
        );
        let e = CodeMap::parse(
            "m.tsv",
            "# map: t\n# version: 1\n# source: s\na\tb\tmapping\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("m.tsv:4: missing header field `# licence"),
            "{e}"
        );
        let e = CodeMap::parse("m.tsv", "a\tb\tmapping\nA\tB\tequal\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.tsv:1: missing header field `# map"), "{e}");
        let e = CodeMap::parse("m.tsv", &format!("{HEAD}a\tb\tmapping\nA\tB\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.tsv:6: 2 cells"), "{e}");
        let e = CodeMap::parse("m.tsv", &format!("{HEAD}a\tb\tmapping\nA\t\tequal\n"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("m.tsv:6: mapping equal with target \"\""),
            "{e}"
        );
        let e = CodeMap::parse("m.tsv", &format!("{HEAD}a\tb\ttype\n"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("m.tsv:5: column row"), "{e}");
    }
}
