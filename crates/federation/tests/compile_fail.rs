//! What the type system forbids a site to send: only a [`Released`] table can be put into an
//! outgoing answer, and only typed notes beside it. Each file under `compile-fail/` must fail
//! to compile with the error recorded beside it.
//!
//! [`Released`]: kakehashi_disclosure::Released

#[test]
fn raw_counts_and_free_text_cannot_be_sent() {
    trybuild::TestCases::new().compile_fail("tests/compile-fail/*.rs");
}
