{{ config(materialized='table') }}
{%- set raw_columns = ['assignment_id', 'customer_id', 'campaign_id', 'treatment_code', 'group', 'assigned_at'] -%}
{{ assert_raw_contract('marketing', 'assignments') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('marketing', 'assignments') }}
),

known_customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
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
        parsed.*,
        case
            when parsed.assignment_id is null then 'null_key:assignment_id'
            when parsed.raw_customer_id is null then 'missing_value:customer_id'
            when parsed.raw_campaign_id is null then 'missing_value:campaign_id'
            when parsed.assignment_group not in ('treatment', 'control') or parsed.assignment_group is null
                then 'invalid_value:group'
            -- A control row without a treatment code is the shared control of every arm of its
            -- campaign; a treated row without one names no arm.
            when parsed.assignment_group = 'treatment' and parsed.raw_treatment_code is null
                then 'missing_value:treatment_code'
            when parsed.raw_assigned_at is null then 'missing_value:assigned_at'
            when parsed.assigned_at is null then 'unparseable_value:assigned_at'
            when parsed.assigned_at >= {{ as_of_upper_bound() }} then 'after_as_of:assigned_at'
            when known_customers.customer_id is null then 'orphan_reference:customer_id'
        end as row_problem
    from parsed
    left join known_customers on parsed.raw_customer_id = known_customers.customer_id
),

{{ decide_quarantine(['assignment_id']) }}
