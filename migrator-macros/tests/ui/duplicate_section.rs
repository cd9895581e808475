static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/duplicate_section");

fn main() {
    let _ = &MIGRATIONS;
}
