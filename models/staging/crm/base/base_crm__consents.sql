{{ config(materialized='table') }}
{%- set raw_columns = ['customer_id', 'channel', 'is_granted', 'changed_at', 'source'] -%}
{{ assert_raw_contract('crm', 'consents') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('crm', 'consents') }}
),

known_customers as (
    select distinct customer_id from {{ ref('stg_shop__customers') }}
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
        parsed.*,
        case
            when parsed.customer_id is null then 'null_key:customer_id'
            when parsed.channel is null then 'null_key:channel'
            when parsed.raw_changed_at is null then 'null_key:changed_at'
            when parsed.changed_at is null then 'unparseable_value:changed_at'
            when parsed.raw_is_granted is null then 'missing_value:is_granted'
            when parsed.is_granted is null then 'unparseable_value:is_granted'
            when parsed.channel not in ('email', 'sms', 'push', 'post', 'phone') then 'invalid_value:channel'
            when parsed.changed_at >= {{ as_of_upper_bound() }} then 'after_as_of:changed_at'
            when known_customers.customer_id is null then 'orphan_reference:customer_id'
        end as row_problem
    from parsed
    left join known_customers on parsed.customer_id = known_customers.customer_id
),

-- Two changes of one channel at the same instant: keep a withdrawal over a
-- grant, because sending without consent is the costlier mistake.
{{ decide_quarantine(['customer_id', 'channel', 'changed_at'],
    version_order='case when is_granted then 1 else 0 end, row_fingerprint') }}
