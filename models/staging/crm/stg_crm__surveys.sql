with

base as (
    select * from {{ ref('base_crm__surveys') }}
    where quarantine_reason is null
),

final as (
    select
        response_id,
        raw_customer_id as customer_id,
        nps_score,
        case
            when nps_score >= 9 then 'promoter'
            when nps_score >= 7 then 'passive'
            else 'detractor'
        end as nps_category,
        lower(raw_touchpoint) as touchpoint,
        answered_at
    from base
)

select * from final
