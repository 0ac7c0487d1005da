-- Affiliate events of each kind in the period, for all users (kpis.md "Affiliates, token
-- habits and upgrades"). $start, $end: UTC bounds, start inclusive, end exclusive.
SELECT count(*) FILTER (WHERE kind = 'shown')::BIGINT      AS affiliate_shown,
       count(*) FILTER (WHERE kind = 'click')::BIGINT      AS affiliate_clicks,
       count(*) FILTER (WHERE kind = 'conversion')::BIGINT AS affiliate_conversions
FROM affiliate_events
WHERE ts >= $start AND ts < $end
