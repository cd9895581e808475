static MIGRATIONS: migrator_core::Migrations = migrator_macros::embed_migrations!("${MIGRATOR_UI_FIXTURES}/missing_parent");

fn main() {
    let _ = &MIGRATIONS;
}
