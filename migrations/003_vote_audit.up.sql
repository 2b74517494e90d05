-- The vote audit (docs/operations.md, "Investigating a suspicious video").
--
-- Each vote records where it came from without recording the address: a
-- keyed BLAKE2b hash of the voter's network (an IPv4 address, an IPv6 /64)
-- and of the User-Agent, under API_VOTE_AUDIT_KEY, which rotates with the
-- contest (the same address hashes differently in the next one).  Votes
-- cast before this migration have neither (NULL).
--
-- A voided vote leaves votes for votes_voided, with who voided it, when and
-- why; the pair (user, video) cannot vote again.
ALTER TABLE votes ADD COLUMN IF NOT EXISTS network_hash text
    CHECK (network_hash ~ '^[0-9a-f]{32}$');
ALTER TABLE votes ADD COLUMN IF NOT EXISTS agent_hash text
    CHECK (agent_hash ~ '^[0-9a-f]{32}$');
-- the audit reads the votes of a period, then each video's in time order
CREATE INDEX IF NOT EXISTS votes_created_idx ON votes (created_at);
CREATE INDEX IF NOT EXISTS votes_video_created_idx ON votes (video_id, created_at);
DROP INDEX IF EXISTS votes_video_idx;

CREATE TABLE IF NOT EXISTS votes_voided (
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id     uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL,
    network_hash text,
    agent_hash   text,
    voided_at    timestamptz NOT NULL DEFAULT now(),
    voided_by    text NOT NULL CHECK (length(voided_by) BETWEEN 1 AND 200),
    reason       text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX IF NOT EXISTS votes_voided_video_idx ON votes_voided (video_id);
