-- add users.last_login_at
--
-- Revision ID: 4d5e6f708192
-- Revises: 3c4d5e6f7081
-- Create Date: 2026-01-08 12:00:00

-- migrate:up
ALTER TABLE users ADD COLUMN last_login_at TIMESTAMP NULL;

-- migrate:down
ALTER TABLE users DROP COLUMN last_login_at;
