//! The analysis dataset as the statistics see it: named columns, numeric or categorical,
//! with missing values.

use serde::{Deserialize, Serialize};

/// One variable's values, one per row; `None` is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "values", rename_all = "snake_case")]
pub enum Column {
    /// Numbers (an indicator is 0 or 1).
    Numeric(Vec<Option<f64>>),
    /// Categories (a factor), coded by treatment contrasts in a model.
    Factor(Vec<Option<String>>),
}

impl Column {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(v) => v.len(),
            Column::Factor(v) => v.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether row `i` is missing.
    pub fn is_missing(&self, i: usize) -> bool {
        match self {
            Column::Numeric(v) => v[i].is_none_or(|x| !x.is_finite()),
            Column::Factor(v) => v[i].is_none(),
        }
    }
}

/// Why a frame cannot be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Columns of different lengths.
    #[error("variable {name}: {got} rows, the others have {expected}")]
    Length {
        /// The variable.
        name: String,
        /// Its rows.
        got: usize,
        /// The others' rows.
        expected: usize,
    },
    /// Two variables with one name.
    #[error("variable {name} is declared twice")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// Two frames that do not have the same variables of the same kinds.
    #[error("variable {name}: not in both datasets with the same kind, in the same place")]
    Mismatch {
        /// The variable.
        name: String,
    },
    /// A name the dataset does not have.
    #[error("unknown variable {name:?} (the dataset has: {known})")]
    Unknown {
        /// The name asked for.
        name: String,
        /// The dataset's variables, comma-separated.
        known: String,
    },
}

/// Named columns of equal length.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Frame {
    names: Vec<String>,
    columns: Vec<Column>,
}

impl Frame {
    /// An empty frame.
    pub fn new() -> Frame {
        Frame::default()
    }

    /// Adds a column; all columns must have the same length.
    pub fn push(&mut self, name: impl Into<String>, column: Column) -> Result<(), FrameError> {
        let name = name.into();
        if self.names.contains(&name) {
            return Err(FrameError::Duplicate { name });
        }
        if let Some(first) = self.columns.first()
            && first.len() != column.len()
        {
            return Err(FrameError::Length {
                name,
                got: column.len(),
                expected: first.len(),
            });
        }
        self.names.push(name);
        self.columns.push(column);
        Ok(())
    }

    /// Adds a column, builder style.
    pub fn with(mut self, name: impl Into<String>, column: Column) -> Result<Frame, FrameError> {
        self.push(name, column)?;
        Ok(self)
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, Column::len)
    }

    /// The variable names, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The columns, in the order of [`Frame::names`].
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// A variable by name, or an error naming the variables there are.
    pub fn get(&self, name: &str) -> Result<&Column, FrameError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
            .ok_or_else(|| FrameError::Unknown {
                name: name.into(),
                known: self.names.join(", "),
            })
    }

    /// The rows of `other` appended below these (same variables, same kinds, in order):
    /// how a pooled frame is made in tests and for a steward's local run over several
    /// snapshots.
    pub fn append(&mut self, other: &Frame) -> Result<(), FrameError> {
        if self.columns.is_empty() {
            *self = other.clone();
            return Ok(());
        }
        if let Some(name) = other.names.iter().find(|n| !self.names.contains(n)) {
            return Err(FrameError::Mismatch { name: name.clone() });
        }
        let mut joined = self.columns.clone();
        for (i, name) in self.names.iter().enumerate() {
            let same = other.names.get(i) == Some(name);
            match (&mut joined[i], other.columns.get(i)) {
                (Column::Numeric(a), Some(Column::Numeric(b))) if same => a.extend_from_slice(b),
                (Column::Factor(a), Some(Column::Factor(b))) if same => a.extend_from_slice(b),
                _ => return Err(FrameError::Mismatch { name: name.clone() }),
            }
        }
        self.columns = joined;
        Ok(())
    }
}
