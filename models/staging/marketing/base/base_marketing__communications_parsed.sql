{#- Parses raw marketing.communications row by row, reading nothing but the source: every
    raw row, with the problem the row shows on its own (parse_problem). Whether
    its customer is staged is checked after parsing, in base_marketing__communications. -#}
{%- set raw_columns = [
    'send_id', 'customer_id', 'campaign_id', 'treatment_code', 'channel', 'sent_at',
    'delivered_at', 'opened_at', 'clicked_at', 'unsubscribed_at'
] -%}
{{ assert_raw_contract('marketing', 'communications') }}

with

source as (
    select {{ select_raw_text(raw_columns) }}
    from {{ raw_source('marketing', 'communications') }}
    -- Rows of persons who asked to be erased never enter the warehouse (docs/privacy.md).
    where {{ erasure_keeps_raw('marketing.communications') }}
),

parsed as (
    select
        *,
        raw_send_id as send_id,
        lower(raw_channel) as channel,
        {{ parse_timestamp_utc('raw_sent_at') }} as sent_at,
        {{ parse_timestamp_utc('raw_delivered_at') }} as delivered_at,
        {{ parse_timestamp_utc('raw_opened_at') }} as opened_at,
        {{ parse_timestamp_utc('raw_clicked_at') }} as clicked_at,
        {{ parse_timestamp_utc('raw_unsubscribed_at') }} as unsubscribed_at,
        {{ row_fingerprint(raw_columns) }} as row_fingerprint,
        {{ raw_key_text(['send_id']) }} as raw_key
    from source
),

checked as (
    select
        *,
        case
            when send_id is null then 'null_key:send_id'
            when raw_customer_id is null then 'missing_value:customer_id'
            when raw_sent_at is null then 'missing_value:sent_at'
            when sent_at is null then 'unparseable_value:sent_at'
            {%- for column_name in ['delivered_at', 'opened_at', 'clicked_at', 'unsubscribed_at'] %}
                when raw_{{ column_name }} is not null and {{ column_name }} is null
                    then 'unparseable_value:{{ column_name }}'
            {%- endfor %}
            when channel not in ('email', 'sms', 'push', 'post', 'phone') or channel is null
                then 'invalid_value:channel'
            when sent_at >= {{ as_of_upper_bound() }} then 'after_as_of:sent_at'
        end as parse_problem
    from parsed
)

select * from checked
