-- Staged token balances (VARCHAR) to contract rows with the first reason a row is refused.
WITH s AS (
    SELECT *, instant(as_of) AS _as_of FROM _staged_token_balances
), n AS (
    SELECT
        *,
        coalesce(
            phone_reason(user_id),
            instant_reason(as_of, _as_of),
            CASE
                WHEN nullif(tidy(balance), '') IS NULL THEN 'missing balance'
                WHEN whole(balance) IS NULL
                    THEN 'balance is not a whole number: ' || tidy(balance)
            END) AS _reason
    FROM s
)
SELECT
    _seq,
    _reason,
    CASE WHEN _reason IS NOT NULL THEN coalesce(
        _raw, to_json(struct_pack(user_id, as_of, balance))::VARCHAR) END AS _raw_record,
    phone(user_id) AS user_id,
    _as_of AS as_of,
    CASE WHEN _reason IS NULL THEN whole(balance) END AS balance
FROM n
