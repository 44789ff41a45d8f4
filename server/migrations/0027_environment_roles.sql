-- Roles per environment (issue 14): a JSON object team (or "*") → the most a member may
-- do on this environment ("viewer" or "operator"), whatever their own role. {} = no limit.
ALTER TABLE environments ADD COLUMN roles TEXT NOT NULL DEFAULT '{}';
