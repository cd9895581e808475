-- seed the welcome note
--
-- Revision ID: 5e7a11ce0003
-- Revises: 5e7a11ce0002
-- Create Date: 2026-02-03 09:00:00

-- migrate:up
INSERT INTO notes (id, body) VALUES ('welcome', 'Hello from the migrations');

-- migrate:down
DELETE FROM notes WHERE id = 'welcome';
