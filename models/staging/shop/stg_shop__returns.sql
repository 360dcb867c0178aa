with

base as (
    select * from {{ ref('base_shop__returns') }}
    where quarantine_reason is null
),

final as (
    select
        return_id,
        raw_order_id as order_id,
        raw_product_id as product_id,
        coalesce(quantity, 1) as quantity,
        coalesce(refund_amount, 0) as refund_amount,
        returned_at,
        lower(raw_reason) as return_reason
    from base
)

select * from final
