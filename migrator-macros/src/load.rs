//! Finding and verifying the directory, through the same functions the
//! runtime loader uses.

use std::path::PathBuf;

use migrator_core::{Migrations, SourceFile, parse_sources, read_dir_sources};

use crate::input::Input;

/// A verified directory.
pub(crate) struct Loaded {
    pub migrations: Migrations,
    pub files: Vec<SourceFile>,
}

/// What went wrong, and the files read so far (so that editing them still
/// triggers a rebuild).
pub(crate) struct Failure {
    pub error: syn::Error,
    pub files: Vec<SourceFile>,
}

pub(crate) fn load(input: &Input) -> Result<Loaded, Failure> {
    let literal = input.path.value();
    let fail = |message: String, files: Vec<SourceFile>| Failure {
        error: syn::Error::new(input.path.span(), message),
        files,
    };
    let dir = match resolve(&literal) {
        Ok(dir) => dir,
        Err(message) => return Err(fail(message, Vec::new())),
    };
    if !dir.is_dir() {
        let message = format!(
            "migrations directory `{literal}` does not exist (looked for {}); the path is relative to the \
             crate's Cargo.toml",
            dir.display()
        );
        return Err(fail(message, Vec::new()));
    }
    let files = match read_dir_sources(&dir) {
        Ok(files) => files,
        Err(diagnostics) => {
            return Err(fail(
                format!("cannot read migrations `{literal}` ({}): {diagnostics}", dir.display()),
                Vec::new(),
            ));
        }
    };
    match parse_sources(&files, input.allow_multiple_heads) {
        Ok(migrations) => Ok(Loaded { migrations, files }),
        Err(diagnostics) => {
            // One error per problem, all at the path literal, with file:line
            // relative to the path as written.
            let mut combined: Option<syn::Error> = None;
            for d in diagnostics.prefixed(literal.trim_end_matches('/')).iter() {
                let e = syn::Error::new(input.path.span(), d.to_string());
                match &mut combined {
                    Some(c) => c.combine(e),
                    None => combined = Some(e),
                }
            }
            let error = combined.unwrap_or_else(|| syn::Error::new(input.path.span(), "invalid migrations"));
            Err(Failure { error, files })
        }
    }
}

/// The names of the `${VAR}`s in a path literal.
pub(crate) fn env_vars(literal: &str) -> Vec<&str> {
    let mut vars = Vec::new();
    let mut rest = literal;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        vars.push(&after[..end]);
        rest = &after[end + 1..];
    }
    vars
}

/// The directory: `${VAR}`s expanded, relative to the calling crate's
/// manifest.
fn resolve(literal: &str) -> Result<PathBuf, String> {
    let mut expanded = String::new();
    let mut rest = literal;
    while let Some(start) = rest.find("${") {
        expanded.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(format!("unclosed `${{` in `{literal}`"));
        };
        let var = &after[..end];
        match std::env::var(var) {
            Ok(value) => expanded.push_str(&value),
            Err(_) => {
                return Err(format!(
                    "environment variable `{var}` (used in `{literal}`) is not set at compile time"
                ));
            }
        }
        rest = &after[end + 1..];
    }
    expanded.push_str(rest);
    let path = PathBuf::from(&expanded);
    if path.is_absolute() {
        return Ok(path);
    }
    let manifest = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| "CARGO_MANIFEST_DIR is not set; embed_migrations! must be compiled by cargo".to_owned())?;
    Ok(PathBuf::from(manifest).join(path))
}
