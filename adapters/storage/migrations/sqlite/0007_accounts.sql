-- People who sign in to the web console. Names are staff ids (the actor recorded on events) and
-- stay taken once used, disabled or not. Passwords are stored as argon2id hashes (PHC strings).
-- `language` is the person's choice of interface language ('en', 'nl'); NULL follows the
-- browser's Accept-Language.
CREATE TABLE accounts
(
    id            text PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    role          text NOT NULL,
    password_hash text NOT NULL,
    language      text,
    created_at    text NOT NULL,
    disabled_at   text
);

-- Console sessions, server-side so that ending one (sign-out, a disabled account, a password
-- reset) takes effect at once on every instance. The cookie holds a random secret; only its
-- SHA-256 is stored, so reading this table does not yield a usable session. Times are
-- microseconds since the Unix epoch.
CREATE TABLE console_sessions
(
    id_hash      text PRIMARY KEY,
    account_id   text   NOT NULL REFERENCES accounts (id),
    csrf_token   text   NOT NULL,
    created_at   bigint NOT NULL,
    last_seen_at bigint NOT NULL,
    expires_at   bigint NOT NULL
);
CREATE INDEX console_sessions_by_account ON console_sessions (account_id);
