-- create invitations
--
-- Revision ID: 92a3b4c5d6e7
-- Revises: 8192a3b4c5d6
-- Create Date: 2026-01-16 10:00:00

-- migrate:up
CREATE TABLE invitations (
    token VARCHAR(64) NOT NULL PRIMARY KEY,
    organisation_id VARCHAR(36) NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email VARCHAR(320) NOT NULL,
    role VARCHAR(20) NOT NULL DEFAULT 'member',
    invited_by VARCHAR(36) NOT NULL REFERENCES users (id),
    expires_at TIMESTAMP NOT NULL,
    accepted_at TIMESTAMP NULL
);
CREATE UNIQUE INDEX uq_invitations_org_email ON invitations (organisation_id, email);

-- migrate:down
DROP TABLE invitations;
