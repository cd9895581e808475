-- merge the billing branch into the main line
--
-- Revision ID: 8192a3b4c5d6
-- Revises: 708192a3b4c5, 6f708192a3b4
-- Create Date: 2026-01-15 09:00:00

-- migrate:up

-- migrate:down
