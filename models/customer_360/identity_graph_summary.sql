{#- The component size distribution, to watch over-merging (a long tail of
    huge components) and under-merging (too many singletons) run by run. -#}
with

components as (
    select * from {{ ref('identity_components') }}
),

final as (
    select
        case
            when identifiers >= 20 then '20+'
            when identifiers >= 10 then '10-19'
            when identifiers >= 5 then '5-9'
            else {{ as_text('identifiers') }}
        end as size_band,
        min(identifiers) as min_identifiers,
        count(*) as components,
        sum(case when is_known_customer then 1 else 0 end) as known_customers,
        sum(case when shop_accounts > 1 then 1 else 0 end) as components_with_several_accounts,
        sum(case when is_oversized then 1 else 0 end) as oversized_components,
        sum(identifiers) as identifiers
    from components
    group by 1
)

select * from final
