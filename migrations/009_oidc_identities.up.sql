-- Players from an OpenID Connect issuer (API_OIDC_ISSUER): known by the
-- issuer and its sub, with no password; their email, city and country
-- may be unknown until they say (PUT /api/me).  Local accounts keep
-- every rule they had; emails stay unique among them only, so an
-- issuer's player never takes over (or is refused for) a local account.
ALTER TABLE users
    ADD COLUMN oidc_issuer text,
    ADD COLUMN oidc_sub    text CHECK (length(oidc_sub) BETWEEN 1 AND 255),
    ALTER COLUMN password_hash DROP NOT NULL,
    ALTER COLUMN email DROP NOT NULL,
    ALTER COLUMN city DROP NOT NULL,
    ALTER COLUMN country DROP NOT NULL,
    DROP CONSTRAINT users_last_name_check,
    ADD CONSTRAINT users_last_name_check CHECK (length(last_name) <= 100),
    ADD CONSTRAINT users_kind_check CHECK (
        CASE WHEN oidc_sub IS NULL
             THEN oidc_issuer IS NULL AND password_hash IS NOT NULL
                  AND email IS NOT NULL AND city IS NOT NULL
                  AND country IS NOT NULL AND length(last_name) >= 1
             ELSE oidc_issuer IS NOT NULL AND password_hash IS NULL
        END);

CREATE UNIQUE INDEX users_oidc_key ON users (oidc_issuer, oidc_sub)
    WHERE oidc_sub IS NOT NULL;

DROP INDEX users_email_lower_key;
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))
    WHERE oidc_sub IS NULL;
