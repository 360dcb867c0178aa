with

base as (
    select * from {{ ref('base_shop__products') }}
    where quarantine_reason is null
),

final as (
    select
        product_id,
        raw_name as product_name,
        lower(raw_category) as category,
        lower(raw_subcategory) as subcategory,
        raw_brand as brand,
        list_price,
        unit_cost,
        case when list_price > 0 then (list_price - unit_cost) / list_price end as list_margin_rate,
        {{ has_encoding_issue('raw_name') }} as has_encoding_issue
    from base
)

select * from final
