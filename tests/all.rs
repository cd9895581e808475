//! The cross-crate integration tests, in one binary: the macro against the
//! loader (`embed`), the executor on every database (`databases`,
//! `sqlite`), the databases' own clients as oracles (`parity`), and
//! Alembic itself (`alembic`). Each module says what it covers.

mod alembic;
mod connecting;
mod databases;
mod embed;
mod parity;
mod sqlite;
