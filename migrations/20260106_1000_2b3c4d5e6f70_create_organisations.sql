-- create organisations
--
-- Revision ID: 2b3c4d5e6f70
-- Revises: 1a2b3c4d5e6f
-- Create Date: 2026-01-06 10:00:00

-- migrate:up
CREATE TABLE organisations (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    slug VARCHAR(64) NOT NULL,
    name VARCHAR(200) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_organisations_slug UNIQUE (slug)
);

-- migrate:down
DROP TABLE organisations;
