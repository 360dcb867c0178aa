-- The value_tiers seed must give every customer a tier: exactly one tier for
-- customers without a purchase (no threshold) and exactly one open from 0.
with

value_tiers as (
    select * from {{ ref('value_tiers') }}
),

counts as (
    select
        sum(case when min_value_percentile is null then 1 else 0 end) as no_purchase_tiers,
        sum(case when min_value_percentile = 0 then 1 else 0 end) as tiers_from_zero
    from value_tiers
)

select
    no_purchase_tiers,
    tiers_from_zero
from counts
where no_purchase_tiers != 1 or tiers_from_zero != 1
