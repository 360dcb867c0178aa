{{ config(meta={'dagster': {'ref': {'name': 'customer_lifecycle'}}}) }}
-- The P(alive) the lifecycle rules use (closed form in SQL, int_journey__p_alive_dates)
-- is the one the value mart reports for the same fit: returns customers where
-- they differ. Null on the lifecycle side (no BG/NBD fit, prospects) is not compared.
select
    lifecycle.customer_key,
    lifecycle.p_alive as lifecycle_p_alive,
    customer_value.p_alive as value_p_alive
from {{ ref('customer_lifecycle') }} as lifecycle
inner join {{ ref('customer_value') }} as customer_value
    on lifecycle.customer_key = customer_value.customer_key
where
    lifecycle.p_alive is not null
    and (customer_value.p_alive is null or abs(lifecycle.p_alive - customer_value.p_alive) > 1e-9)
