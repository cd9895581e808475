//! The service's library side exists for one thing: README.md's Rust
//! examples are compiled as doctests here, in a crate with a
//! `migrations/` directory and the dependencies the README lists, so that
//! they cannot rot. (`cargo test --doc -p service`.)

/// README.md, whose `rust` blocks are this crate's doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
// The build.rs example is a whole file, `fn main` included.
#[allow(clippy::needless_doctest_main)]
pub struct ReadmeExamples;
