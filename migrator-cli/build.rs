//! Rebuilds the default binary when a demo revision is added or removed
//! (edits are tracked by `embed_migrations!` itself).

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
