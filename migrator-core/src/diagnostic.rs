//! Errors found in revision files, each pinned to a file and line.

use std::fmt;

/// One problem in the migrations directory: which file, which line, what is
/// wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as shown to the user (relative to the migrations directory,
    /// prefixed with the directory as the user named it).
    pub path: String,
    /// One-based line number.
    pub line: u32,
    /// What is wrong and what to do, lowercase, no trailing period.
    pub message: String,
}

impl Diagnostic {
    pub(crate) fn new(path: impl Into<String>, line: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Every problem found in one pass over a migrations directory. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// The problems, in file order.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// Prefixes every path with `dir/`, for display relative to the place the
    /// user named.
    pub fn prefixed(mut self, dir: &str) -> Self {
        if !dir.is_empty() {
            let dir = dir.trim_end_matches('/');
            for d in &mut self.0 {
                d.path = format!("{dir}/{}", d.path);
            }
        }
        self
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        if n > 1 {
            writeln!(f, "{n} problems in the migrations:")?;
        }
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The candidate closest to `word` by edit distance, if it is close enough to
/// be a plausible typo.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let word = word.to_ascii_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = strsim::levenshtein(&word, &c.to_ascii_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.filter(|(d, c)| *d <= (c.len() / 3).max(1) && *d < word.len())
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_finds_typos_only() {
        let keys = ["revision id", "revises", "depends on"];
        assert_eq!(nearest("revison id", keys), Some("revision id"));
        assert_eq!(nearest("revise", keys), Some("revises"));
        assert_eq!(nearest("author", keys), None);
    }
}
