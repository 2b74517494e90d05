-- Players from an issuer cannot be local accounts: they go, with their
-- videos and votes (ON DELETE CASCADE).
DELETE FROM users WHERE oidc_sub IS NOT NULL;

DROP INDEX users_email_lower_key;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
DROP INDEX users_oidc_key;

ALTER TABLE users
    DROP CONSTRAINT users_kind_check,
    DROP CONSTRAINT users_last_name_check,
    ADD CONSTRAINT users_last_name_check
        CHECK (length(last_name) BETWEEN 1 AND 100),
    ALTER COLUMN password_hash SET NOT NULL,
    ALTER COLUMN email SET NOT NULL,
    ALTER COLUMN city SET NOT NULL,
    ALTER COLUMN country SET NOT NULL,
    DROP COLUMN oidc_sub,
    DROP COLUMN oidc_issuer;
