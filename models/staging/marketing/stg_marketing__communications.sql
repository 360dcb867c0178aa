with

base as (
    select * from {{ ref('base_marketing__communications') }}
    where quarantine_reason is null
),

final as (
    select
        send_id,
        raw_customer_id as customer_id,
        raw_campaign_id as campaign_id,
        upper(raw_treatment_code) as treatment_code,
        channel,
        sent_at,
        -- Responses after the as-of date have not happened yet as of that date.
    {%- for column_name in ['delivered_at', 'opened_at', 'clicked_at', 'unsubscribed_at'] %}
        case when {{ column_name }} < {{ as_of_upper_bound() }} then {{ column_name }} end as {{ column_name }}
        {{- "," if not loop.last }}
    {%- endfor %}
    from base
)

select * from final
