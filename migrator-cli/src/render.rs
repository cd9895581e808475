//! How revisions look on a terminal, in Alembic's formats.

use std::time::Duration;

use migrator_core::Graph;

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

fn marks(graph: &Graph<'_>, i: usize) -> String {
    let mut m = String::new();
    if graph.is_head(i) {
        m.push_str(" (head)");
    }
    if graph.is_branch_point(i) {
        m.push_str(" (branchpoint)");
    }
    if graph.is_merge_point(i) {
        m.push_str(" (mergepoint)");
    }
    m
}

fn labels(graph: &Graph<'_>, i: usize) -> String {
    let own = &graph.revision(i).branch_labels;
    if own.is_empty() {
        String::new()
    } else {
        format!(" ({})", own.join(", "))
    }
}

/// `rev (labels) (head)`: one line, as `current` and `heads` print it.
pub(crate) fn short(graph: &Graph<'_>, i: usize) -> String {
    format!("{}{}{}", graph.revision(i).id, labels(graph, i), marks(graph, i))
}

/// `parents -> rev (labels) (marks), message`, as `history` prints it.
pub(crate) fn history_line(graph: &Graph<'_>, i: usize) -> String {
    let r = graph.revision(i);
    let parents = if r.revises.is_empty() {
        "<base>".to_owned()
    } else {
        r.revises.join(", ")
    };
    format!(
        "{parents} -> {}{}{}, {}",
        r.id,
        labels(graph, i),
        marks(graph, i),
        r.message
    )
}

/// A block describing one revision, as `show` prints it.
pub(crate) fn detail(graph: &Graph<'_>, i: usize) -> String {
    let r = graph.revision(i);
    let mut out = format!("Rev: {}{}\n", r.id, marks(graph, i));
    let parents = if r.revises.is_empty() {
        "<base>".to_owned()
    } else {
        r.revises.join(", ")
    };
    out += &format!("{}: {parents}\n", if r.revises.len() > 1 { "Merges" } else { "Parent" });
    if !r.depends_on.is_empty() {
        out += &format!("Also depends on: {}\n", r.depends_on.join(", "));
    }
    if graph.is_branch_point(i) {
        let children: Vec<&str> = graph.children(i).iter().map(|&c| &*graph.revision(c).id).collect();
        out += &format!("Branches into: {}\n", children.join(", "));
    }
    let inherited = graph.labels(i);
    if !inherited.is_empty() {
        out += &format!("Branch names: {}\n", inherited.join(", "));
    }
    out += &format!("Path: {}\n", r.path);
    if let Some(date) = &r.create_date {
        out += &format!("Create Date: {date}\n");
    }
    out += &format!("\n    {}\n", r.message);
    out
}
