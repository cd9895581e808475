//! `embed_migrations!`: reads a migrations directory at compile time,
//! verifies the whole revision graph with migrator-core's own checks, and
//! expands to a `static`-compatible [`Migrations`] table.
//!
//! ```rust
//! // Paths are relative to the crate's Cargo.toml (here, this repository's).
//! static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("../migrations");
//! static OTHER: migrator_core::Migrations =
//!     migrator_macros::embed_migrations!("../tests/fixtures/varied", allow_multiple_heads = true);
//!
//! assert_eq!(MIGRATIONS.revisions.len(), 10);
//! assert_eq!(OTHER.revisions.len(), 3);
//! ```
//!
//! The path is relative to the calling crate's `Cargo.toml`; `${VAR}` in it
//! is replaced by the environment variable `VAR` at compile time (for
//! example `${OUT_DIR}/migrations` for a generated directory). Every
//! problem in every file is reported at once, as `file:line: message`,
//! pointing at the path literal.
//!
//! [`Migrations`]: https://docs.rs/migrator-core

mod expand;
mod input;
mod load;

use proc_macro::TokenStream;

/// Embeds a verified migrations directory. See the crate documentation.
#[proc_macro]
pub fn embed_migrations(tokens: TokenStream) -> TokenStream {
    let input = match syn::parse::<input::Input>(tokens) {
        Ok(input) => input,
        Err(e) => return expand::with_errors(&[], "", e).into(),
    };
    let literal = input.path.value();
    match load::load(&input) {
        Ok(loaded) => expand::table(&loaded, &literal).into(),
        Err(failure) => expand::with_errors(&failure.files, &literal, failure.error).into(),
    }
}
