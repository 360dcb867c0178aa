{#- Parses raw crm.surveys row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its customer is staged is checked after parsing, in base_crm__surveys. -#}
{%- set raw_columns = ['response_id', 'customer_id', 'nps_score', 'touchpoint', 'answered_at'] -%}
{{ assert_raw_contract('crm', 'surveys') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('crm', 'surveys') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('crm.surveys') }}
),

parsed as (
    select
        *,
        raw_response_id as response_id,
        {{ parse_integer('raw_nps_score') }} as nps_score,
        {{ parse_timestamp_utc('raw_answered_at') }} as answered_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['response_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when response_id is null then 'null_key:response_id'
            when raw_customer_id is null then 'missing_value:customer_id'
            when raw_nps_score is null then 'missing_value:nps_score'
            when nps_score is null then 'unparseable_value:nps_score'
            when nps_score not between 0 and 10 then 'invalid_value:nps_score'
            when raw_answered_at is null then 'missing_value:answered_at'
            when answered_at is null then 'unparseable_value:answered_at'
            when answered_at >= {{ as_of_upper_bound() }} then 'after_as_of:answered_at'
        end as parse_problem
    from parsed
)

select * from checked
