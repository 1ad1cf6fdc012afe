//! Buffers kept from one record to the next, though what they held borrowed from the record.

/// An emptied vector of another element type (here: the same type for other borrows), in the
/// same allocation: the standard library collects in place when the element layout matches.
pub(crate) fn emptied<T, U>(mut v: Vec<T>) -> Vec<U> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}
