-- create subscriptions
--
-- Revision ID: 6f708192a3b4
-- Revises: 5e6f708192a3
-- Create Date: 2026-01-11 09:00:00

-- migrate:up
CREATE TABLE subscriptions (
    organisation_id VARCHAR(36) NOT NULL PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    plan_code VARCHAR(32) NOT NULL REFERENCES plans (code),
    started_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    cancelled_at TIMESTAMP NULL
);

-- migrate:down
DROP TABLE subscriptions;
