with

base as (
    select * from {{ ref('base_marketing__assignments') }}
    where quarantine_reason is null
),

final as (
    select
        assignment_id,
        raw_customer_id as customer_id,
        raw_campaign_id as campaign_id,
        upper(raw_treatment_code) as treatment_code,
        assignment_group,
        assignment_group = 'treatment' as is_treated,
        -- No treatment code on a control row: the shared control of every arm of the campaign.
        assignment_group = 'control' and raw_treatment_code is null as is_shared_control,
        assigned_at
    from base
)

select * from final
