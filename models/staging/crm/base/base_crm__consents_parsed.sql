{#- Parses raw crm.consents row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its customer is staged is checked after parsing, in base_crm__consents. -#}
{%- set raw_columns = ['customer_id', 'channel', 'is_granted', 'changed_at', 'source'] -%}
{{ assert_raw_contract('crm', 'consents') }}

with

source as (
    select
        {{- select_raw_text(raw_columns) }},
        -- A tie between two versions of a row goes to the later file.
        {{ raw_file_name('crm', 'consents') }} as raw_file
    from {{ raw_source('crm', 'consents') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('crm.consents') }}
),

parsed as (
    select
        *,
        raw_customer_id as customer_id,
        lower(raw_channel) as channel,
        {{ parse_boolean('lower(raw_is_granted)') }} as is_granted,
        {{ parse_timestamp_utc('raw_changed_at') }} as changed_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['customer_id', 'channel', 'changed_at']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when customer_id is null then 'null_key:customer_id'
            when channel is null then 'null_key:channel'
            when raw_changed_at is null then 'null_key:changed_at'
            when changed_at is null then 'unparseable_value:changed_at'
            when raw_is_granted is null then 'missing_value:is_granted'
            when is_granted is null then 'unparseable_value:is_granted'
            when channel not in ('email', 'sms', 'push', 'post', 'phone') then 'invalid_value:channel'
            when changed_at >= {{ as_of_upper_bound() }} then 'after_as_of:changed_at'
        end as parse_problem
    from parsed
)

select * from checked
