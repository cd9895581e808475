//! Compile-time diagnostics of `embed_migrations!`: one case per problem,
//! each with the exact message rustc shows (`tests/ui/<case>.stderr`).
//! Regenerate with `TRYBUILD=overwrite cargo test -p migrator-macros`.

#[test]
fn ui() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    // The fixtures live beside this file, but trybuild compiles the cases in
    // a scratch crate elsewhere; the macro expands `${MIGRATOR_UI_FIXTURES}`
    // from the environment of the compiler trybuild starts.
    // SAFETY: set before any other thread of this test binary exists.
    #[allow(unsafe_code)]
    unsafe {
        std::env::set_var("MIGRATOR_UI_FIXTURES", fixtures)
    };
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/pass/*.rs");
}
