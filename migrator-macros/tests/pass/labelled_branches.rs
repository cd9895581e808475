// A deliberate branch, labelled, passes; so do several heads when allowed.
static LABELLED: migrator_core::Migrations =
    migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/labelled_branches");
static ALLOWED: migrator_core::Migrations =
    migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/second_head", allow_multiple_heads = true);

fn main() {
    assert_eq!(LABELLED.revisions.len(), 3);
    assert!(ALLOWED.allow_multiple_heads);
}
