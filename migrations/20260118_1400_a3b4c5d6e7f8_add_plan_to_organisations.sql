-- default plan for new organisations
--
-- Revision ID: a3b4c5d6e7f8
-- Revises: 92a3b4c5d6e7
-- Create Date: 2026-01-18 14:00:00

-- migrate:up
ALTER TABLE organisations ADD COLUMN default_plan_code VARCHAR(32) NOT NULL DEFAULT 'free';
UPDATE organisations SET default_plan_code = 'free';

-- migrate:down
ALTER TABLE organisations DROP COLUMN default_plan_code;
