-- create the audit log
--
-- Revision ID: 708192a3b4c5
-- Revises: 4d5e6f708192
-- Create Date: 2026-01-12 10:00:00

-- migrate:up
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id VARCHAR(36) NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    actor_id VARCHAR(36) NULL REFERENCES users (id) ON DELETE SET NULL,
    action VARCHAR(64) NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_audit_log_organisation_created ON audit_log (organisation_id, created_at);

-- migrate:up postgresql
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id VARCHAR(36) NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    actor_id VARCHAR(36) NULL REFERENCES users (id) ON DELETE SET NULL,
    action VARCHAR(64) NOT NULL,
    payload JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX ix_audit_log_organisation_created ON audit_log (organisation_id, created_at);

-- migrate:up mysql
CREATE TABLE audit_log (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    organisation_id VARCHAR(36) NOT NULL,
    actor_id VARCHAR(36) NULL,
    action VARCHAR(64) NOT NULL,
    payload JSON NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT fk_audit_log_organisation FOREIGN KEY (organisation_id) REFERENCES organisations (id) ON DELETE CASCADE,
    CONSTRAINT fk_audit_log_actor FOREIGN KEY (actor_id) REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX ix_audit_log_organisation_created ON audit_log (organisation_id, created_at);

-- migrate:down
DROP TABLE audit_log;
