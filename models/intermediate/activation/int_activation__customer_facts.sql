-- Everything the rules read about a customer, one row per customer of the
-- 360: where they are in the journey, what they are worth, what they need,
-- and when they like to be contacted.
with

customers as (
    select
        customer_key,
        preferred_iso_weekday,
        preferred_hour_utc,
        main_timezone
    from {{ ref('customer_360') }}
),

customer_value as (
    select
        customer_key,
        value_tier,
        p_alive,
        expected_order_value,
        revenue,
        gross_margin,
        cross_sell_category,
        cross_sell_expected_margin
    from {{ ref('customer_value') }}
),

customer_needs as (
    select
        customer_key,
        needs_segment_id,
        persona_name
    from {{ ref('customer_needs') }}
),

customer_lifecycle as (
    select
        customer_key,
        lifecycle_stage
    from {{ ref('customer_lifecycle') }}
),

final as (
    select
        customers.customer_key,
        customer_lifecycle.lifecycle_stage,
        customer_value.value_tier,
        customer_needs.needs_segment_id,
        customer_needs.persona_name,
        customer_value.p_alive,
        customer_value.expected_order_value,
        -- The customer's own margin rate prices a purchase a treatment may cause.
        case
            when customer_value.revenue > 0
                then least(greatest(customer_value.gross_margin / customer_value.revenue, 0), 1)
            else 0
        end as margin_rate,
        customer_value.cross_sell_category,
        customer_value.cross_sell_expected_margin,
        customers.preferred_iso_weekday,
        customers.preferred_hour_utc,
        customers.main_timezone
    from customers
    left join customer_value on customers.customer_key = customer_value.customer_key
    left join customer_needs on customers.customer_key = customer_needs.customer_key
    left join customer_lifecycle on customers.customer_key = customer_lifecycle.customer_key
)

select * from final
