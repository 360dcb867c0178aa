{#-
  Every staged order reaches exactly one customer_key: through its account,
  else (guest checkout) through its checkout email, else through the guest
  order itself. Line, cost and return totals are summed per order here so the
  feature families read one row per order, in the reporting currency. An
  order's cost is unknown (null) when any of its lines has no cost basis.
-#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

order_lines as (
    select * from {{ ref('int_finance__order_line_amounts') }}
),

order_amounts as (
    select * from {{ ref('int_finance__order_amounts') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

identity_map as (
    select * from {{ ref('identity_map') }}
),

account_keys as (
    select
        identifier_value,
        customer_key
    from identity_map
    where identifier_type = 'customer_id'
),

email_keys as (
    select
        identifier_value,
        customer_key
    from identity_map
    where identifier_type = 'email'
),

known_keys as (
    select distinct customer_key
    from identity_map
    where is_known_customer
),

guest_order_keys as (
    select
        identifier_value,
        customer_key
    from identity_map
    where identifier_type = 'guest_order'
),

line_totals as (
    select
        order_lines.order_id,
        count(*) as line_count,
        cast(sum(order_lines.quantity) as {{ dbt.type_bigint() }}) as items_count,
        sum(order_lines.gross_amount) as gross_amount,
        sum(order_lines.discount_amount) as discount_amount,
        sum(order_lines.net_amount) as net_amount,
        case when count(order_lines.cost_amount) = count(*) then sum(order_lines.cost_amount) end as cost_amount
    from order_lines
    group by order_lines.order_id
),

-- Refunds are paid in the order's currency.
return_totals as (
    select
        returns.order_id,
        count(*) as returns_count,
        cast(sum(returns.quantity) as {{ dbt.type_bigint() }}) as returned_items_count,
        sum({{ to_reporting_currency('returns.refund_amount', 'order_amounts.exchange_rate') }}) as refund_amount
    from returns
    inner join order_amounts on returns.order_id = order_amounts.order_id
    group by returns.order_id
),

attributed as (
    select
        orders.order_id,
        coalesce(account_keys.customer_key, email_keys.customer_key, guest_order_keys.customer_key)
            as customer_key,
        case
            when account_keys.customer_key is not null then 'customer_id'
            when email_keys.customer_key is not null then 'email'
            when guest_order_keys.customer_key is not null then 'guest_order'
        end as attribution_method,
        orders.customer_id,
        orders.is_guest_checkout,
        orders.channel,
        orders.store_id,
        orders.ordered_at,
        orders.order_date,
        orders.status,
        orders.status = 'cancelled' as is_cancelled
    from orders
    left join account_keys on orders.customer_id = account_keys.identifier_value
    -- The checkout email only decides when the account does not.
    left join email_keys
        on
            orders.email = email_keys.identifier_value
            and account_keys.customer_key is null
    left join guest_order_keys
        on
            orders.order_id = guest_order_keys.identifier_value
            and account_keys.customer_key is null
            and email_keys.customer_key is null
),

final as (
    select
        attributed.order_id,
        attributed.customer_key,
        attributed.attribution_method,
        known_keys.customer_key is not null as is_known_customer,
        attributed.customer_id,
        attributed.is_guest_checkout,
        attributed.channel,
        attributed.store_id,
        attributed.ordered_at,
        attributed.order_date,
        attributed.status,
        attributed.is_cancelled,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.items_count, 0) as items_count,
        coalesce(line_totals.gross_amount, 0) as gross_amount,
        coalesce(line_totals.discount_amount, 0) as discount_amount,
        coalesce(line_totals.net_amount, 0) as net_amount,
        -- An order without lines costs nothing; one with a line of unknown cost has unknown cost.
        case when line_totals.order_id is null then 0 else line_totals.cost_amount end as cost_amount,
        coalesce(return_totals.returns_count, 0) as returns_count,
        coalesce(return_totals.returned_items_count, 0) as returned_items_count,
        coalesce(return_totals.refund_amount, 0) as refund_amount
    from attributed
    left join known_keys on attributed.customer_key = known_keys.customer_key
    left join line_totals on attributed.order_id = line_totals.order_id
    left join return_totals on attributed.order_id = return_totals.order_id
)

-- Lean storage (docs/scale.md): several rows per customer, written in customer_key order so
-- each stored block holds few keys and compresses them.
select * from final
order by customer_key
