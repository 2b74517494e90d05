-- SNS endpoints: a webhook endpoint whose url is sns:<topic ARN> is sent
-- by the dispatcher with SNS's Publish (worker/sns.h) instead of a POST,
-- with the same claims, retries and retention.  The worker adds the one
-- EVENTS_SNS_TOPIC_ARN names; the unique index lets workers starting
-- together add it once (INSERT ... ON CONFLICT DO NOTHING).
ALTER TABLE webhook_endpoints DROP CONSTRAINT IF EXISTS webhook_endpoints_url_check;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_url_check
    CHECK (url ~ '^(https?://|sns:arn:)' AND length(url) <= 2000);
CREATE UNIQUE INDEX IF NOT EXISTS webhook_endpoints_sns_url_idx ON webhook_endpoints (url)
    WHERE url LIKE 'sns:%';
