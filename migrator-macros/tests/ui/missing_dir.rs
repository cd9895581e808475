static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/no_such_dir");

fn main() {
    let _ = &MIGRATIONS;
}
