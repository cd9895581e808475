//! How revisions look on a terminal, in Alembic's formats, and as JSON.

use std::time::Duration;

use migrator_core::{Graph, RevisionIndex};
use serde_json::{Value, json};

use crate::out::outln;

/// `1.2 ms`, `340 ms`, `2.41 s`.
pub(crate) fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

/// `[######..............] 12/40  r0012` (no newline), for a terminal.
pub(crate) fn progress(done: usize, total: usize, last: &str) -> String {
    const WIDTH: usize = 30;
    let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH).min(WIDTH);
    format!(
        "[{}{}] {done}/{total}  {last}",
        "#".repeat(filled),
        ".".repeat(WIDTH - filled)
    )
}

/// What a one-line rendering includes (Alembic's `cmd_format` switches).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Line {
    pub branches: bool,
    pub doc: bool,
    pub parents: bool,
    pub tree: bool,
    pub current: bool,
}

fn parents(graph: &Graph<'_>, i: RevisionIndex) -> String {
    let r = graph.revision(i);
    if r.revises.is_empty() {
        "<base>".to_owned()
    } else {
        r.revises.join(", ")
    }
}

/// One line for a revision: `[parents -> ]rev[ (labels)] (head)...[, message]`.
pub(crate) fn line(graph: &Graph<'_>, i: RevisionIndex, how: Line) -> String {
    let r = graph.revision(i);
    let mut text = r.id.to_string();
    if how.parents {
        text = if r.depends_on.is_empty() {
            format!("{} -> {text}", parents(graph, i))
        } else {
            format!("{} ({}) -> {text}", parents(graph, i), r.depends_on.join(", "))
        };
    }
    let labels = graph.labels(i);
    if how.branches && !labels.is_empty() {
        text += &format!(" ({})", labels.join(", "));
    }
    if graph.is_real_head(i) {
        text += " (head)";
    } else if graph.is_head(i) {
        text += " (effective head)";
    }
    if how.current {
        text += " (current)";
    }
    if how.tree {
        if graph.is_branch_point(i) {
            text += " (branchpoint)";
        }
        if graph.is_merge_point(i) {
            text += " (mergepoint)";
        }
    }
    if how.doc {
        text += &format!(", {}", r.message);
    }
    text
}

/// A block describing one revision (Alembic's `log_entry`), as `show` and
/// the verbose listings print it.
pub(crate) fn detail(graph: &Graph<'_>, i: RevisionIndex, current: bool) -> String {
    let r = graph.revision(i);
    let mut out = format!("Rev: {}", r.id);
    if graph.is_head(i) {
        out += " (head)";
    }
    if graph.is_branch_point(i) {
        out += " (branchpoint)";
    }
    if graph.is_merge_point(i) {
        out += " (mergepoint)";
    }
    if current {
        out += " (current)";
    }
    out.push('\n');
    out += &format!(
        "{}: {}\n",
        if graph.is_merge_point(i) { "Merges" } else { "Parent" },
        parents(graph, i)
    );
    if !r.depends_on.is_empty() {
        out += &format!("Also depends on: {}\n", r.depends_on.join(", "));
    }
    if graph.is_branch_point(i) {
        let children: Vec<&str> = graph.children(i).iter().map(|&c| &*graph.revision(c).id).collect();
        out += &format!("Branches into: {}\n", children.join(", "));
    }
    let labels = graph.labels(i);
    if !labels.is_empty() {
        out += &format!("Branch names: {}\n", labels.join(", "));
    }
    out += &format!("Path: {}\n", r.path);
    if let Some(date) = &r.create_date {
        out += &format!("Create Date: {date}\n");
    }
    out += &format!("\n    {}\n", r.message);
    out
}

/// A revision as a JSON object.
pub(crate) fn json(graph: &Graph<'_>, i: RevisionIndex, current: bool) -> Value {
    let r = graph.revision(i);
    let list = |l: &[std::borrow::Cow<'static, str>]| l.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    json!({
        "revision": r.id,
        "message": r.message,
        "path": r.path,
        "revises": list(&r.revises),
        "depends_on": list(&r.depends_on),
        "branch_labels": list(&r.branch_labels),
        "branches": graph.labels(i),
        "create_date": r.create_date,
        "is_head": graph.is_head(i),
        "is_real_head": graph.is_real_head(i),
        "is_branch_point": graph.is_branch_point(i),
        "is_merge_point": graph.is_merge_point(i),
        "is_current": current,
    })
}

/// Prints a JSON value on stdout.
pub(crate) fn print_json(value: &Value) {
    outln!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".to_owned())
    );
}
