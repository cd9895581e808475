-- add notes.created_at
--
-- Revision ID: 5e7a11ce0002
-- Revises: 5e7a11ce0001
-- Create Date: 2026-02-02 09:00:00

-- migrate:up
ALTER TABLE notes ADD COLUMN created_at TIMESTAMP NULL;

-- migrate:down
ALTER TABLE notes DROP COLUMN created_at;
