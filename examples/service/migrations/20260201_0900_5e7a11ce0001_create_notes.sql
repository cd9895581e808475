-- create notes
--
-- Revision ID: 5e7a11ce0001
-- Revises:
-- Create Date: 2026-02-01 09:00:00

-- migrate:up
CREATE TABLE notes (id VARCHAR(36) NOT NULL PRIMARY KEY, body VARCHAR(1000) NOT NULL);

-- migrate:down
DROP TABLE notes;
