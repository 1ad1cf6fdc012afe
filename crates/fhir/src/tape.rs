//! A parsed resource read from its tape ([`crate::json`]).
//!
//! A node is a slice of the tape ([`Entry`]) starting at the node, two words, copied freely; the
//! accessors are small and inline into the evaluators (simd-json's, used before, were not
//! `#[inline]`: without link-time optimisation every step of a view's path was a call into
//! another crate).

pub use crate::json::{Entry, Scalar};

/// A node of a parsed resource: a slice of the tape starting at the node, so parsing
/// allocates nothing per node and a node is two words, copied freely.
#[derive(Clone, Copy, Debug)]
pub struct Node<'a>(&'a [Entry<'a>]);

/// How many tape entries a node takes, itself included.
#[inline(always)]
fn span(n: &Entry<'_>) -> usize {
    match n {
        Entry::Object { count, .. } | Entry::Array { count, .. } => *count + 1,
        _ => 1,
    }
}

const NULL: [Entry<'static>; 1] = [Entry::Scalar(Scalar::Null)];

impl<'a> Node<'a> {
    /// The root of a parsed document (JSON `null` for an empty tape).
    pub fn root(tape: &'a [Entry<'a>]) -> Node<'a> {
        if tape.is_empty() {
            Node(&NULL)
        } else {
            Node(tape)
        }
    }

    #[inline(always)]
    fn head(self) -> &'a Entry<'a> {
        // a node is never an empty slice: `root` and the accessors below make sure of it
        match self.0.first() {
            Some(n) => n,
            None => &NULL[0],
        }
    }

    /// The string, if the node is one (unescaped, borrowed from the input).
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        match self.head() {
            Entry::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if the node is one.
    #[inline]
    pub fn as_object(&self) -> Option<Object<'a>> {
        match self.head() {
            Entry::Object { len, count } => Some(Object {
                len: *len,
                entries: self.0.get(1..*count + 1)?,
            }),
            _ => None,
        }
    }

    /// The array, if the node is one.
    #[inline]
    pub fn as_array(&self) -> Option<Array<'a>> {
        match self.head() {
            Entry::Array { len, count } => Some(Array {
                len: *len,
                entries: self.0.get(1..*count + 1)?,
            }),
            _ => None,
        }
    }

    /// Whether the node is JSON `null`.
    #[inline]
    pub fn is_null(&self) -> bool {
        matches!(self.head(), Entry::Scalar(Scalar::Null))
    }

    /// The scalar, if the node is `null`, a boolean or a number.
    #[inline]
    pub fn as_scalar(&self) -> Option<Scalar> {
        match self.head() {
            Entry::Scalar(s) => Some(*s),
            _ => None,
        }
    }

    /// The boolean, if the node is one.
    #[inline]
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_scalar()? {
            Scalar::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The number as a float, if the node is a number.
    #[inline]
    pub fn as_f64(&self) -> Option<f64> {
        match self.as_scalar()? {
            Scalar::F64(f, _) => Some(f),
            Scalar::I64(n) => Some(n as f64),
            Scalar::U64(n) => Some(n as f64),
            _ => None,
        }
    }
}

/// An object node: its members in document order.
#[derive(Clone, Copy, Debug)]
pub struct Object<'a> {
    len: usize,
    /// Name, value, name, value, ... (values may span several entries).
    entries: &'a [Entry<'a>],
}

impl<'a> Object<'a> {
    /// The members (name, value) in document order.
    #[inline]
    pub fn iter(&self) -> Pairs<'a> {
        Pairs(self.entries)
    }

    /// The value of member `key` (the first, if the document repeats it).
    #[inline(always)]
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        for (k, v) in self.iter() {
            if same_bytes(k.as_bytes(), key.as_bytes()) {
                return Some(v);
            }
        }
        None
    }

    /// The number of members.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the object has no members.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The members of an object, in document order.
#[derive(Clone, Debug)]
pub struct Pairs<'a>(&'a [Entry<'a>]);

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, Node<'a>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (Entry::Str(k), rest) = self.0.split_first()? else {
            return None;
        };
        let n = span(rest.first()?);
        let (value, tail) = rest.split_at_checked(n)?;
        self.0 = tail;
        Some((k, Node(value)))
    }
}

/// An array node: its elements in order.
#[derive(Clone, Copy, Debug)]
pub struct Array<'a> {
    len: usize,
    entries: &'a [Entry<'a>],
}

impl<'a> Array<'a> {
    /// The elements in order.
    #[inline]
    pub fn iter(&self) -> Elements<'a> {
        Elements(self.entries)
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the array has no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The elements of an array, in order.
#[derive(Clone, Debug)]
pub struct Elements<'a>(&'a [Entry<'a>]);

impl<'a> Iterator for Elements<'a> {
    type Item = Node<'a>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let n = span(self.0.first()?);
        let (value, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(Node(value))
    }
}

/// Equality of two byte strings without a call to `memcmp`: element names and resource types
/// in two overlapping word compares, longer text (URLs) a word at a time; inlined where used.
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    #[inline(always)]
    fn word(x: &[u8], at: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&x[at..at + 8]);
        u64::from_le_bytes(w)
    }
    #[inline(always)]
    fn half(x: &[u8], at: usize) -> u32 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&x[at..at + 4]);
        u32::from_le_bytes(w)
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        // first, middle and last byte: every byte of one to three
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        9..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        // URLs of code systems and extensions: eight bytes at a time, the last word overlapping
        _ => {
            (0..n - 8).step_by(8).all(|at| word(a, at) == word(b, at))
                && word(a, n - 8) == word(b, n - 8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_elements_and_values_read_back() {
        let text = br#"{"a":1,"b":[true,null,{"c":"x\"y"},[2.5,-3]],"d":{},"e":[],"f":"z","a":2}"#
            .to_vec();
        crate::json::Reader::new().read(&text, |tape| {
            let root = Node::root(tape.expect("valid JSON"));
            let obj = root.as_object().expect("an object");
            assert_eq!(obj.len(), 6);
            let keys: Vec<&str> = obj.iter().map(|(k, _)| k).collect();
            assert_eq!(keys, ["a", "b", "d", "e", "f", "a"]);
            // the first of a repeated key
            assert_eq!(
                obj.get("a").and_then(|v| v.as_scalar()),
                Some(Scalar::U64(1))
            );
            let b = obj.get("b").and_then(|b| b.as_array()).expect("an array");
            assert_eq!(b.len(), 4);
            let items: Vec<Node<'_>> = b.iter().collect();
            assert_eq!(items.len(), 4);
            assert_eq!(items[0].as_bool(), Some(true));
            assert!(items[1].is_null());
            assert_eq!(
                items[2]
                    .as_object()
                    .and_then(|o| o.get("c"))
                    .and_then(|c| c.as_str()),
                Some("x\"y")
            );
            let inner: Vec<f64> = items[3]
                .as_array()
                .expect("an array")
                .iter()
                .filter_map(|n| n.as_f64())
                .collect();
            assert_eq!(inner, [2.5, -3.0]);
            assert!(
                obj.get("d")
                    .and_then(|d| d.as_object())
                    .is_some_and(|d| d.is_empty() && d.iter().next().is_none())
            );
            assert!(
                obj.get("e")
                    .and_then(|e| e.as_array())
                    .is_some_and(|e| e.is_empty() && e.iter().next().is_none())
            );
            assert_eq!(obj.get("f").and_then(|f| f.as_str()), Some("z"));
            assert!(obj.get("g").is_none());
            assert!(root.as_array().is_none() && root.as_str().is_none() && !root.is_null());
        });
    }

    #[test]
    fn same_bytes_agrees_with_equality_at_every_length() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 0x20;
                assert!(!same_bytes(&a, &b), "length {n}, byte {i}");
            }
            assert!(!same_bytes(&a, &[a.as_slice(), b"x"].concat()));
        }
    }
}
