{#- Parses raw marketing.assignments row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its customer is staged is checked after parsing, in base_marketing__assignments. -#}
{%- set raw_columns = ['assignment_id', 'customer_id', 'campaign_id', 'treatment_code', 'group', 'assigned_at'] -%}
{{ assert_raw_contract('marketing', 'assignments') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('marketing', 'assignments') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('marketing.assignments') }}
),

parsed as (
    select
        *,
        raw_assignment_id as assignment_id,
        lower(raw_group) as assignment_group,
        {{ parse_timestamp_utc('raw_assigned_at') }} as assigned_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['assignment_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when assignment_id is null then 'null_key:assignment_id'
            when raw_customer_id is null then 'missing_value:customer_id'
            when raw_campaign_id is null then 'missing_value:campaign_id'
            when assignment_group not in ('treatment', 'control') or assignment_group is null
                then 'invalid_value:group'
            -- A control row without a treatment code is the shared control of every arm of its
            -- campaign; a treated row without one names no arm.
            when assignment_group = 'treatment' and raw_treatment_code is null
                then 'missing_value:treatment_code'
            when raw_assigned_at is null then 'missing_value:assigned_at'
            when assigned_at is null then 'unparseable_value:assigned_at'
            when assigned_at >= {{ as_of_upper_bound() }} then 'after_as_of:assigned_at'
        end as parse_problem
    from parsed
)

select * from checked
