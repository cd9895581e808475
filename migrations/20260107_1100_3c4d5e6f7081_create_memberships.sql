-- create memberships
--
-- Revision ID: 3c4d5e6f7081
-- Revises: 2b3c4d5e6f70
-- Create Date: 2026-01-07 11:00:00

-- migrate:up
CREATE TABLE memberships (
    user_id VARCHAR(36) NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organisation_id VARCHAR(36) NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    role VARCHAR(20) NOT NULL DEFAULT 'member',
    joined_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (user_id, organisation_id)
);
CREATE INDEX ix_memberships_organisation ON memberships (organisation_id);

-- migrate:down
DROP INDEX ix_memberships_organisation;
DROP TABLE memberships;

-- migrate:down mysql
DROP TABLE memberships;
