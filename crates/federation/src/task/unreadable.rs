//! Why the hub cannot read a site's released table as its task type's table (a site bug or a
//! forged answer): the site is then listed as failed with this reason.

/// A released table the hub cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    /// The dimensions or measures are not the task type's.
    #[error("not {expected} (dimensions {dims:?}, measures {measures:?})")]
    Shape {
        /// What the table should be (`a cohort count`, `an antibiogram table`).
        expected: &'static str,
        /// The table's dimensions.
        dims: Vec<String>,
        /// The table's measures.
        measures: Vec<String>,
    },
    /// A measure the task's table has is missing.
    #[error("the released table has no measure {measure}")]
    NoMeasure {
        /// The measure.
        measure: String,
    },
    /// A dimension the task's table has is missing.
    #[error("the released table has no {dim} dimension")]
    NoDimension {
        /// The dimension.
        dim: &'static str,
    },
    /// A row cannot be read.
    #[error("row {row}: {problem}")]
    Row {
        /// The row's index (from 0).
        row: usize,
        /// What is wrong with it.
        problem: RowProblem,
    },
}

/// What is wrong with a row of a released table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    /// The key has another number of values than the table's dimensions.
    #[error("{found} key values")]
    KeyLength {
        /// How many it has.
        found: usize,
    },
    /// A key value is not a value of its dimension.
    #[error("bad {dim} {value:?}")]
    Key {
        /// The dimension.
        dim: &'static str,
        /// The value.
        value: String,
    },
    /// A statistic the table type does not have.
    #[error("unknown {what} {value:?}")]
    Statistic {
        /// Which kind of statistic (`organism statistic`, `category`).
        what: &'static str,
        /// The value.
        value: String,
    },
    /// Fewer values than measures.
    #[error("too few values")]
    Values,
}

/// A released table of a named site the hub cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{site}: {error}")]
pub struct SiteUnreadable {
    /// The site.
    pub site: String,
    /// Why.
    pub error: Unreadable,
}
