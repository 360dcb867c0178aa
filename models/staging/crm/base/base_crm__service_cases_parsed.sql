{#- Parses raw crm.service_cases row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its customer is staged is checked after parsing, in base_crm__service_cases. -#}
{%- set raw_columns = ['case_id', 'customer_id', 'channel', 'reason', 'opened_at', 'resolved_at', 'satisfaction'] -%}
{{ assert_raw_contract('crm', 'service_cases') }}

with

source as (
    select
        {{- select_raw_text(raw_columns) }},
        -- A tie between two versions of a row goes to the later file.
        {{ raw_file_name('crm', 'service_cases') }} as raw_file
    from {{ raw_source('crm', 'service_cases') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('crm.service_cases') }}
),

parsed as (
    select
        *,
        raw_case_id as case_id,
        {{ parse_timestamp_utc('raw_opened_at') }} as opened_at,
        {{ parse_timestamp_utc('raw_resolved_at') }} as resolved_at,
        {{ parse_integer('raw_satisfaction') }} as satisfaction,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['case_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when case_id is null then 'null_key:case_id'
            when raw_customer_id is null then 'missing_value:customer_id'
            when raw_opened_at is null then 'missing_value:opened_at'
            when opened_at is null then 'unparseable_value:opened_at'
            when raw_resolved_at is not null and resolved_at is null
                then 'unparseable_value:resolved_at'
            when raw_satisfaction is not null and satisfaction is null
                then 'unparseable_value:satisfaction'
            when satisfaction not between 1 and 5 then 'invalid_value:satisfaction'
            when resolved_at < opened_at then 'invalid_value:resolved_at'
            when opened_at >= {{ as_of_upper_bound() }} then 'after_as_of:opened_at'
        end as parse_problem
    from parsed
)

select * from checked
