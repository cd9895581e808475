//! The table as tokens.

use migrator_core::{Dialect, Direction, List, Revision, Section, SourceFile, Text};
use proc_macro2::TokenStream;
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

/// Revisions per array constant.
const CHUNK: usize = 64;

/// The verified table.
pub(crate) fn table(loaded: &Loaded, literal: &str) -> TokenStream {
    let tracked = track(&loaded.files, literal);
    let revisions: Vec<TokenStream> = loaded.migrations.revisions.iter().map(revision).collect();
    let allow = loaded.migrations.allow_multiple_heads;
    // rustc's time on one array constant grows faster than its length;
    // many small ones, joined at run time on first use, compile about three
    // times faster at 10,000 revisions.
    let chunks: Vec<TokenStream> = revisions
        .chunks(CHUNK)
        .map(|c| {
            let n = c.len();
            quote! {{ static CHUNK: [::migrator_core::Revision; #n] = [#(#c),*]; &CHUNK }}
        })
        .collect();
    let k = chunks.len();
    quote! {
        {
            #tracked
            static CHUNKS: [&[::migrator_core::Revision]; #k] = [#(#chunks),*];
            ::migrator_core::Migrations::from_chunks(&CHUNKS, #allow)
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

fn text(t: &Text) -> TokenStream {
    let s: &str = t;
    quote! { ::migrator_core::Text::Borrowed(#s) }
}

fn texts(list: &List<Text>) -> TokenStream {
    let items = list.iter().map(text);
    quote! { ::migrator_core::List::<::migrator_core::Text>::Static(&[#(#items),*]) }
}

fn revision(r: &Revision) -> TokenStream {
    let id = text(&r.id);
    let message = text(&r.message);
    let path = text(&r.path);
    let revises = texts(&r.revises);
    let depends_on = texts(&r.depends_on);
    let branch_labels = texts(&r.branch_labels);
    let create_date = match &r.create_date {
        Some(d) => {
            let d = text(d);
            quote! { ::core::option::Option::Some(#d) }
        }
        None => quote! { ::core::option::Option::None },
    };
    let sections = r.sections.iter().map(section);
    // One byte-string literal per checksum, not 32 integer tokens.
    let checksums = r.checksums.iter().map(|c| {
        let bytes = proc_macro2::Literal::byte_string(&c.0);
        quote! { ::migrator_core::Checksum(*#bytes) }
    });
    let (l_id, l_revises, l_depends, l_labels) =
        (r.lines.id, r.lines.revises, r.lines.depends_on, r.lines.branch_labels);
    quote! {
        ::migrator_core::Revision {
            id: #id,
            message: #message,
            path: #path,
            revises: #revises,
            depends_on: #depends_on,
            branch_labels: #branch_labels,
            create_date: #create_date,
            sections: ::migrator_core::List::<::migrator_core::Section>::Static(&[#(#sections),*]),
            checksums: [#(#checksums),*],
            lines: ::migrator_core::HeaderLines {
                id: #l_id, revises: #l_revises, depends_on: #l_depends, branch_labels: #l_labels,
            },
        }
    }
}

fn section(s: &Section) -> TokenStream {
    let direction = match s.direction {
        Direction::Up => quote! { ::migrator_core::Direction::Up },
        Direction::Down => quote! { ::migrator_core::Direction::Down },
    };
    let dialect = match s.dialect {
        None => quote! { ::core::option::Option::None },
        Some(Dialect::Sqlite) => quote! { ::core::option::Option::Some(::migrator_core::Dialect::Sqlite) },
        Some(Dialect::Postgres) => quote! { ::core::option::Option::Some(::migrator_core::Dialect::Postgres) },
        Some(Dialect::Mysql) => quote! { ::core::option::Option::Some(::migrator_core::Dialect::Mysql) },
    };
    let transactional = s.transactional;
    let sql = text(&s.sql);
    let line = s.line;
    quote! {
        ::migrator_core::Section {
            direction: #direction, dialect: #dialect, transactional: #transactional, sql: #sql, line: #line,
        }
    }
}
