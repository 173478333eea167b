-- Per-backend usage counters by calendar month (O3). Instances sharing the database add their deltas.
CREATE TABLE usage (
    month bytea NOT NULL,
    backend bytea NOT NULL,
    api_calls bigint NOT NULL,
    egress_bytes bigint NOT NULL,
    ingress_bytes bigint NOT NULL,
    PRIMARY KEY (month, backend)
);

-- store_usage_add(): adds each backend's deltas (one row per backend) and returns the month's totals.
CREATE FUNCTION s3orch_usage_add(p_month bytea, p_backend bytea[], p_api bigint[], p_egress bigint[],
                                 p_ingress bigint[])
RETURNS TABLE (o_backend bytea, o_api_calls bigint, o_egress_bytes bigint, o_ingress_bytes bigint)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage AS u (month, backend, api_calls, egress_bytes, ingress_bytes)
    SELECT p_month, d.b, d.a, d.e, d.i FROM unnest(p_backend, p_api, p_egress, p_ingress) AS d(b, a, e, i)
    ORDER BY d.b
    ON CONFLICT ON CONSTRAINT usage_pkey DO UPDATE SET api_calls = u.api_calls + EXCLUDED.api_calls,
        egress_bytes = u.egress_bytes + EXCLUDED.egress_bytes, ingress_bytes = u.ingress_bytes + EXCLUDED.ingress_bytes;
    RETURN QUERY SELECT u.backend, u.api_calls, u.egress_bytes, u.ingress_bytes FROM usage u
        WHERE u.month = p_month ORDER BY u.backend;
END
$$;
