{#-
  The Pareto curve in a few points: the share of revenue that the top x% of
  customers (by revenue, all known customers) bring, for x in var
  value_pareto_top_shares. Read from customer_value.revenue_rank_share.
-#}
{%- set top_shares = var('value_pareto_top_shares', [0.01, 0.05, 0.1, 0.2, 0.5]) -%}
with

customer_value as (
    select * from {{ ref('customer_value') }}
),

top_shares as (
    {%- for share in top_shares %}
        select cast({{ share }} as {{ dbt.type_float() }}) as top_customer_share
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

totals as (
    select
        count(*) as customers_count,
        sum(revenue) as revenue
    from customer_value
),

final as (
    select
        top_shares.top_customer_share,
        count(customer_value.customer_key) as customers_count,
        coalesce(sum(customer_value.revenue), 0) as revenue,
        {{ safe_ratio('coalesce(sum(customer_value.revenue), 0)', 'max(totals.revenue)') }} as revenue_share
    from top_shares
    cross join totals
    left join customer_value on top_shares.top_customer_share > customer_value.revenue_rank_share
    group by top_shares.top_customer_share
)

select * from final
