-- 1: the whole store as the SQLite store's migrations 1-3 left it, plus the functions that make each writing call
-- of the store contract one statement (postgres.c explains why).
--
-- Every string the contract carries is a NUL-terminated byte string compared byte-wise and not necessarily UTF-8
-- (keys, header values and backend keys come from clients), so strings are bytea: its order is memcmp's, it takes
-- any byte, and NULL stays apart from ''. Integers are bigint (milliseconds, sizes).

CREATE TABLE s3orch_schema (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE buckets (
    name bytea PRIMARY KEY,
    owner bytea NOT NULL,
    created_ms bigint NOT NULL
);

-- One row per (bucket, key): the current version.
CREATE TABLE objects (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket bytea NOT NULL,
    key bytea NOT NULL,
    size bigint NOT NULL,
    etag bytea NOT NULL,
    checksum_algorithm bytea,
    checksum_value bytea,
    checksum_type bytea,
    content_type bytea,
    content_encoding bytea,
    content_disposition bytea,
    content_language bytea,
    cache_control bytea,
    expires bytea,
    user_meta bytea, -- name NUL value NUL ..., in the order given
    tagging bytea,
    storage_class bytea,
    created_ms bigint NOT NULL,
    modified_ms bigint NOT NULL,
    part_sizes bigint[] -- an object completed from a multipart upload; NULL when written whole
);
-- Lookups, and listings walking a bucket in byte order of keys (M5).
CREATE UNIQUE INDEX objects_bucket_key ON objects (bucket, key);

-- seq keeps the order copies were committed in.
CREATE TABLE copies (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    object_id bigint NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    backend bytea NOT NULL,
    backend_key bytea NOT NULL,
    size bigint NOT NULL,
    created_ms bigint NOT NULL,
    UNIQUE (object_id, backend)
);
-- Is this backend key live? (cleanup safety)
CREATE INDEX copies_backend_key ON copies (backend, backend_key);

-- Intent and cleanup ids are handed to callers who come back with them: identities are never reused.
CREATE TABLE intents (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket bytea NOT NULL,
    key bytea NOT NULL,
    backend bytea NOT NULL,
    backend_key bytea NOT NULL,
    size bigint NOT NULL,
    created_ms bigint NOT NULL
);
CREATE INDEX intents_created ON intents (created_ms, id);
CREATE INDEX intents_bucket_key ON intents (bucket, key);
CREATE INDEX intents_backend_key ON intents (backend, backend_key);

CREATE TABLE cleanup (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    backend bytea NOT NULL,
    backend_key bytea NOT NULL,
    size bigint NOT NULL,
    reason bytea NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_ms bigint NOT NULL,
    created_ms bigint NOT NULL,
    UNIQUE (backend, backend_key)
);
CREATE INDEX cleanup_due ON cleanup (next_attempt_ms, id);

-- Multipart uploads (S9): the object's headers in the same columns as objects.
CREATE TABLE uploads (
    id bytea PRIMARY KEY,
    owner bytea NOT NULL,
    backend bytea NOT NULL,
    backend_key bytea NOT NULL,
    backend_upload_id bytea NOT NULL,
    created_ms bigint NOT NULL,
    bucket bytea NOT NULL,
    key bytea NOT NULL,
    checksum_algorithm bytea,
    checksum_type bytea,
    content_type bytea,
    content_encoding bytea,
    content_disposition bytea,
    content_language bytea,
    cache_control bytea,
    expires bytea,
    user_meta bytea,
    tagging bytea,
    storage_class bytea
);
-- Listings: by key, then by initiation, then by id.
CREATE INDEX uploads_bucket_key ON uploads (bucket, key, created_ms, id);
-- An upload's backend key is reserved like a pending intent's (cleanup safety).
CREATE INDEX uploads_backend_key ON uploads (backend, backend_key);

CREATE TABLE parts (
    upload_id bytea NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    number integer NOT NULL,
    size bigint NOT NULL,
    etag bytea NOT NULL,
    checksum_value bytea,
    backend_etag bytea NOT NULL,
    modified_ms bigint NOT NULL,
    PRIMARY KEY (upload_id, number)
);

-- Errors the functions raise for the store to map to -errno (postgres_conn.c): SQLSTATE class S3.
--   S3NOE -ENOENT  S3EXI -EEXIST  S3INV -EINVAL  S3IDR -EIDRM  S3STA -ESTALE  S3NEM -ENOTEMPTY

-- Queues the copies (b[i], k[i], s[i]) that the new version (keep_b, keep_k; NULL on delete) does not reuse, due
-- at due_ms; a row already queued for the same backend key is updated. Returns the rows queued.
CREATE FUNCTION s3orch_displace(b bytea[], k bytea[], s bigint[], keep_b bytea[], keep_k bytea[], reason bytea,
                                now_ms bigint, due_ms bigint)
RETURNS SETOF cleanup LANGUAGE sql AS $$
    INSERT INTO cleanup AS c (backend, backend_key, size, reason, attempts, next_attempt_ms, created_ms)
    SELECT o.b, o.k, o.s, reason, 0, due_ms, now_ms
      FROM unnest(b, k, s) AS o (b, k, s)
     WHERE NOT EXISTS (SELECT 1 FROM unnest(keep_b, keep_k) AS n (b, k) WHERE n.b = o.b AND n.k = o.k)
    ON CONFLICT (backend, backend_key) DO UPDATE
       SET size = excluded.size, reason = excluded.reason, next_attempt_ms = excluded.next_attempt_ms
    RETURNING c.*
$$;

-- store_object_commit_if() and store_upload_complete(): makes the object the current version of its key, last
-- writer wins. The intent (p_intent > 0) or the upload (p_upload not NULL) is consumed first; then the object row
-- is locked (or inserted), so two commits of one key from any number of connections run one after the other and
-- each displaces exactly the copies of the version it replaced. Returns the displaced copies' cleanup rows.
CREATE FUNCTION s3orch_commit(
    p_intent bigint, p_upload bytea, p_bucket bytea, p_key bytea, p_size bigint, p_etag bytea,
    p_checksum_algorithm bytea, p_checksum_value bytea, p_checksum_type bytea,
    p_content_type bytea, p_content_encoding bytea, p_content_disposition bytea, p_content_language bytea,
    p_cache_control bytea, p_expires bytea, p_user_meta bytea, p_tagging bytea, p_storage_class bytea,
    p_modified_ms bigint, p_part_sizes bigint[],
    p_backends bytea[], p_backend_keys bytea[], p_sizes bigint[], p_created bigint[],
    p_if_match bytea, p_if_none_match boolean, p_now_ms bigint, p_due_ms bigint)
RETURNS SETOF cleanup LANGUAGE plpgsql AS $$
DECLARE
    v_bucket bytea;
    v_key bytea;
    v_id bigint;
    v_etag bytea;
    v_new boolean := false;
    old_b bytea[];
    old_k bytea[];
    old_s bigint[];
BEGIN
    IF p_intent > 0 THEN
        DELETE FROM intents WHERE id = p_intent RETURNING bucket, key INTO v_bucket, v_key;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'intent % is gone', p_intent USING ERRCODE = 'S3IDR';
        END IF;
        IF v_bucket <> p_bucket OR v_key <> p_key THEN
            RAISE EXCEPTION 'intent % is for another key', p_intent USING ERRCODE = 'S3INV';
        END IF;
    END IF;
    IF p_upload IS NOT NULL THEN
        DELETE FROM uploads WHERE id = p_upload RETURNING bucket, key INTO v_bucket, v_key;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'no such upload' USING ERRCODE = 'S3NOE';
        END IF;
        IF v_bucket <> p_bucket OR v_key <> p_key THEN
            RAISE EXCEPTION 'the upload is for another key' USING ERRCODE = 'S3INV';
        END IF;
    END IF;

    -- Lock the current version, or insert the first one; an insert that loses a race to another connection's
    -- insert finds that row locked on the next round.
    LOOP
        SELECT id, etag INTO v_id, v_etag FROM objects WHERE bucket = p_bucket AND key = p_key FOR UPDATE;
        EXIT WHEN FOUND;
        IF p_if_match IS NOT NULL THEN
            RAISE EXCEPTION 'no such key' USING ERRCODE = 'S3NOE';
        END IF;
        INSERT INTO objects (bucket, key, size, etag, checksum_algorithm, checksum_value, checksum_type,
                             content_type, content_encoding, content_disposition, content_language, cache_control,
                             expires, user_meta, tagging, storage_class, created_ms, modified_ms, part_sizes)
        VALUES (p_bucket, p_key, p_size, p_etag, p_checksum_algorithm, p_checksum_value, p_checksum_type,
                p_content_type, p_content_encoding, p_content_disposition, p_content_language, p_cache_control,
                p_expires, p_user_meta, p_tagging, p_storage_class, p_modified_ms, p_modified_ms, p_part_sizes)
        ON CONFLICT (bucket, key) DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NOT NULL THEN
            v_new := true;
            EXIT;
        END IF;
    END LOOP;

    IF NOT v_new THEN
        IF p_if_none_match THEN
            RAISE EXCEPTION 'the key exists' USING ERRCODE = 'S3EXI';
        END IF;
        IF p_if_match IS NOT NULL AND v_etag <> p_if_match THEN
            RAISE EXCEPTION 'the ETag differs' USING ERRCODE = 'S3STA';
        END IF;
        -- created_ms (not set here) stays the first version's.
        UPDATE objects SET size = p_size, etag = p_etag, checksum_algorithm = p_checksum_algorithm,
               checksum_value = p_checksum_value, checksum_type = p_checksum_type, content_type = p_content_type,
               content_encoding = p_content_encoding, content_disposition = p_content_disposition,
               content_language = p_content_language, cache_control = p_cache_control, expires = p_expires,
               user_meta = p_user_meta, tagging = p_tagging, storage_class = p_storage_class,
               modified_ms = p_modified_ms, part_sizes = p_part_sizes
         WHERE id = v_id;
        WITH old AS (DELETE FROM copies WHERE object_id = v_id RETURNING seq, backend, backend_key, size)
        SELECT array_agg(backend ORDER BY seq), array_agg(backend_key ORDER BY seq), array_agg(size ORDER BY seq)
          INTO old_b, old_k, old_s FROM old;
    END IF;

    INSERT INTO copies (object_id, backend, backend_key, size, created_ms)
    SELECT v_id, c.b, c.k, c.s, CASE WHEN c.t = 0 THEN p_now_ms ELSE c.t END
      FROM unnest(p_backends, p_backend_keys, p_sizes, p_created) WITH ORDINALITY AS c (b, k, s, t, i)
     ORDER BY c.i;
    -- The new copies are live: the cleaner must not delete them.
    DELETE FROM cleanup c USING unnest(p_backends, p_backend_keys) AS n (b, k)
     WHERE c.backend = n.b AND c.backend_key = n.k;
    RETURN QUERY SELECT * FROM s3orch_displace(old_b, old_k, old_s, p_backends, p_backend_keys,
                                               'overwrite'::bytea, p_now_ms, p_due_ms);
END
$$;

-- store_object_delete(): removes the object and queues its copies; nothing (and no error) for a missing key.
CREATE FUNCTION s3orch_object_delete(p_bucket bytea, p_key bytea, p_now_ms bigint, p_due_ms bigint)
RETURNS SETOF cleanup LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    old_b bytea[];
    old_k bytea[];
    old_s bigint[];
BEGIN
    SELECT id INTO v_id FROM objects WHERE bucket = p_bucket AND key = p_key FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    WITH old AS (DELETE FROM copies WHERE object_id = v_id RETURNING seq, backend, backend_key, size)
    SELECT array_agg(backend ORDER BY seq), array_agg(backend_key ORDER BY seq), array_agg(size ORDER BY seq)
      INTO old_b, old_k, old_s FROM old;
    DELETE FROM objects WHERE id = v_id;
    RETURN QUERY SELECT * FROM s3orch_displace(old_b, old_k, old_s, NULL, NULL, 'delete'::bytea, p_now_ms,
                                               p_due_ms);
END
$$;

-- store_intent_drop(): the cleanup row's id when a reason queues the intent's copy, else 0.
CREATE FUNCTION s3orch_intent_drop(p_id bigint, p_reason bytea, p_now_ms bigint)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v_backend bytea;
    v_backend_key bytea;
    v_size bigint;
    v_cleanup bigint;
BEGIN
    DELETE FROM intents WHERE id = p_id RETURNING backend, backend_key, size INTO v_backend, v_backend_key, v_size;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such intent' USING ERRCODE = 'S3NOE';
    END IF;
    IF p_reason IS NULL THEN
        RETURN 0;
    END IF;
    INSERT INTO cleanup AS c (backend, backend_key, size, reason, attempts, next_attempt_ms, created_ms)
    VALUES (v_backend, v_backend_key, v_size, p_reason, 0, p_now_ms, p_now_ms)
    ON CONFLICT (backend, backend_key) DO UPDATE
       SET size = excluded.size, reason = excluded.reason, next_attempt_ms = excluded.next_attempt_ms
    RETURNING c.id INTO v_cleanup;
    RETURN v_cleanup;
END
$$;

-- store_bucket_delete(): only an empty bucket goes.
CREATE FUNCTION s3orch_bucket_delete(p_name bytea)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM buckets WHERE name = p_name FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no such bucket' USING ERRCODE = 'S3NOE';
    END IF;
    IF EXISTS (SELECT 1 FROM objects WHERE bucket = p_name) OR EXISTS (SELECT 1 FROM intents WHERE bucket = p_name)
       OR EXISTS (SELECT 1 FROM uploads WHERE bucket = p_name) THEN
        RAISE EXCEPTION 'the bucket is not empty' USING ERRCODE = 'S3NEM';
    END IF;
    DELETE FROM buckets WHERE name = p_name;
END
$$;

-- The smallest byte string above every string that starts with g: g with its last byte below 0xFF raised by one
-- and what follows dropped. NULL when g is all 0xFF bytes (nothing sorts after its strings).
CREATE FUNCTION s3orch_after_prefix(g bytea)
RETURNS bytea LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
    WHILE length(g) > 0 AND get_byte(g, length(g) - 1) = 255 LOOP
        g := substring(g FROM 1 FOR length(g) - 1);
    END LOOP;
    IF length(g) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN set_byte(g, length(g) - 1, get_byte(g, length(g) - 1) + 1);
END
$$;

-- The common prefix key rolls into: key up to and including the first delimiter after the prefix (plen bytes),
-- or NULL when there is none (or no delimiter).
CREATE FUNCTION s3orch_group(key bytea, plen integer, delim bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN length(delim) = 0 OR position(delim IN substring(key FROM plen + 1)) = 0 THEN NULL
                ELSE substring(key FROM 1 FOR plen + position(delim IN substring(key FROM plen + 1)) - 1
                                                 + length(delim)) END
$$;

-- A listing row: an object, or a common prefix (etag NULL, key the prefix).
CREATE TYPE s3orch_list_row AS (
    key bytea,
    size bigint,
    etag bytea,
    modified_ms bigint,
    storage_class bytea,
    checksum_algorithm bytea,
    checksum_type bytea
);

-- store_list_objects(): at most p_max + 1 rows (one more than asked tells that the listing is truncated), in key
-- order. The walk reads the (bucket, key) index from the start position; with a delimiter, the first key of a
-- group yields the group's prefix and the walk seeks again just past the group, so a group costs one index probe
-- however many keys it holds.
CREATE FUNCTION s3orch_list_objects(p_bucket bytea, p_prefix bytea, p_delim bytea, p_after bytea, p_max integer)
RETURNS SETOF s3orch_list_row LANGUAGE plpgsql STABLE AS $$
DECLARE
    plen integer := length(p_prefix);
    pos bytea;
    emitted integer := 0;
    r s3orch_list_row;
    g bytea;
BEGIN
    -- key > p_after is key >= p_after || 0x00: the walk always starts at an inclusive position.
    pos := CASE WHEN p_after >= p_prefix THEN p_after || '\x00'::bytea ELSE p_prefix END;
    <<walk>>
    WHILE pos IS NOT NULL LOOP
        FOR r IN SELECT o.key, o.size, o.etag, o.modified_ms, o.storage_class, o.checksum_algorithm,
                        o.checksum_type
                   FROM objects o
                  WHERE o.bucket = p_bucket AND o.key >= pos
                  ORDER BY o.key
                  LIMIT p_max + 2 - emitted
        LOOP
            IF substring(r.key FROM 1 FOR plen) <> p_prefix THEN
                EXIT walk; -- past the prefix: nothing further matches
            END IF;
            g := s3orch_group(r.key, plen, p_delim);
            IF g IS NULL THEN
                RETURN NEXT r;
                emitted := emitted + 1;
                IF emitted > p_max THEN
                    EXIT walk;
                END IF;
                CONTINUE;
            END IF;
            -- A common prefix: returned unless p_after is inside it (returned already), then skipped.
            IF g > p_after THEN
                RETURN NEXT (g, NULL, NULL, NULL, NULL, NULL, NULL)::s3orch_list_row;
                emitted := emitted + 1;
                IF emitted > p_max THEN
                    EXIT walk;
                END IF;
            END IF;
            pos := s3orch_after_prefix(g);
            CONTINUE walk;
        END LOOP;
        EXIT walk; -- the query ran out of keys
    END LOOP;
END
$$;

-- store_uploads_list(): as s3orch_list_objects(), over uploads in (key, created_ms, id) order; a common prefix is
-- a row whose id is NULL. With p_id_marker the uploads of p_key_marker up to that one (in the listing's order)
-- are skipped; when that upload is gone all of p_key_marker's uploads come again (repeating beats skipping).
CREATE FUNCTION s3orch_list_uploads(p_bucket bytea, p_prefix bytea, p_delim bytea, p_key_marker bytea,
                                    p_id_marker bytea, p_max integer)
RETURNS SETOF uploads LANGUAGE plpgsql STABLE AS $$
DECLARE
    plen integer := length(p_prefix);
    pos bytea;
    emitted integer := 0;
    r uploads;
    g bytea;
    m_ms bigint;
    gap uploads;
BEGIN
    IF length(p_id_marker) > 0 THEN
        SELECT created_ms INTO m_ms FROM uploads WHERE id = p_id_marker AND bucket = p_bucket AND key = p_key_marker;
        pos := CASE WHEN p_key_marker >= p_prefix THEN p_key_marker ELSE p_prefix END;
    ELSE
        pos := CASE WHEN p_key_marker >= p_prefix THEN p_key_marker || '\x00'::bytea ELSE p_prefix END;
    END IF;
    <<walk>>
    WHILE pos IS NOT NULL LOOP
        FOR r IN SELECT * FROM uploads u
                  WHERE u.bucket = p_bucket AND u.key >= pos
                  ORDER BY u.key, u.created_ms, u.id
        LOOP
            IF substring(r.key FROM 1 FOR plen) <> p_prefix THEN
                EXIT walk;
            END IF;
            g := s3orch_group(r.key, plen, p_delim);
            IF g IS NULL THEN
                IF m_ms IS NOT NULL AND r.key = p_key_marker
                   AND (r.created_ms < m_ms OR (r.created_ms = m_ms AND r.id <= p_id_marker)) THEN
                    CONTINUE;
                END IF;
                RETURN NEXT r;
                emitted := emitted + 1;
                IF emitted > p_max THEN
                    EXIT walk;
                END IF;
                CONTINUE;
            END IF;
            IF g > p_key_marker THEN
                gap.key := g;
                RETURN NEXT gap;
                emitted := emitted + 1;
                IF emitted > p_max THEN
                    EXIT walk;
                END IF;
            END IF;
            pos := s3orch_after_prefix(g);
            CONTINUE walk;
        END LOOP;
        EXIT walk;
    END LOOP;
END
$$;
