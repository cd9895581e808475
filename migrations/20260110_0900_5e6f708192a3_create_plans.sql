-- create billing plans
--
-- Revision ID: 5e6f708192a3
-- Revises: 3c4d5e6f7081
-- Create Date: 2026-01-10 09:00:00
-- Branch Labels: billing

-- migrate:up
CREATE TABLE plans (
    code VARCHAR(32) NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    monthly_price_cents INTEGER NOT NULL CHECK (monthly_price_cents >= 0)
);
INSERT INTO plans (code, name, monthly_price_cents) VALUES ('free', 'Free', 0);

-- migrate:down
DROP TABLE plans;
