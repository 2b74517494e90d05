-- SNS endpoints go, with their deliveries (the old check forbids them).
DROP INDEX IF EXISTS webhook_endpoints_sns_url_idx;
DELETE FROM webhook_endpoints WHERE url !~ '^https?://';
ALTER TABLE webhook_endpoints DROP CONSTRAINT IF EXISTS webhook_endpoints_url_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_url_check
    CHECK (url ~ '^https?://' AND length(url) <= 2000);
