-- create users
--
-- Revision ID: 1a2b3c4d5e6f
-- Revises:
-- Create Date: 2026-01-05 09:00:00

-- migrate:up
CREATE TABLE users (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    email VARCHAR(320) NOT NULL,
    display_name VARCHAR(200) NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_users_email UNIQUE (email)
);

-- migrate:down
DROP TABLE users;
