with

base as (
    select * from {{ ref('base_shop__order_lines') }}
    where quarantine_reason is null
),

final as (
    select
        {{ dbt.concat(['order_id', "'-'", as_text('line_number')]) }} as order_line_id,
        order_id,
        line_number,
        raw_product_id as product_id,
        quantity,
        unit_price,
        discount_amount,
        quantity * unit_price as gross_amount,
        quantity * unit_price - discount_amount as net_amount
    from base
)

-- Lean storage (docs/scale.md): several lines per order, written in order_id order so each stored block
-- holds few keys and compresses them.
select * from final
order by order_id, line_number
