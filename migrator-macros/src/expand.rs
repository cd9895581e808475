//! The table as tokens: one byte-string literal holding the packed
//! revisions (see `migrator_core::pack`), plus the tracking that makes
//! rustc rebuild the crate when a file or a path variable changes.

use migrator_core::{SourceFile, pack};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::load::Loaded;

/// `include_str!` of every file, so that editing one rebuilds the crate,
/// and `option_env!` of every variable in the path, so that pointing it
/// elsewhere does too.
fn track(files: &[SourceFile], literal: &str) -> TokenStream {
    let paths = files.iter().map(|f| f.absolute.to_string_lossy().into_owned());
    let vars = crate::load::env_vars(literal);
    quote! {
        const _: &[&str] = &[#(include_str!(#paths)),*];
        const _: &[::core::option::Option<&str>] = &[#(::core::option_env!(#vars)),*];
    }
}

/// The verified table. rustc's time on an array constant of structs grows
/// faster than its length (15 s for 10,000 revisions); one byte string of
/// the same content costs next to nothing, and is unpacked on first use.
pub(crate) fn table(loaded: &Loaded, literal: &str) -> TokenStream {
    let tracked = track(&loaded.files, literal);
    let packed = Literal::byte_string(&pack(&loaded.migrations.revisions));
    let allow = loaded.migrations.allow_multiple_heads;
    quote! {
        {
            #tracked
            ::migrator_core::Migrations::from_packed_v2(#packed, #allow)
        }
    }
}

/// The errors, plus an empty table so that the caller type-checks and the
/// user sees these errors only.
pub(crate) fn with_errors(files: &[SourceFile], literal: &str, error: syn::Error) -> TokenStream {
    let tracked = track(files, literal);
    let errors = error.to_compile_error();
    quote! {
        {
            #tracked
            #errors
            ::migrator_core::Migrations::from_static(&[], false)
        }
    }
}
