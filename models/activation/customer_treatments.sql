-- The activation table: one primary treatment per customer and run, with its
-- channel, send window, offer and the reason it was chosen. Customers who pass
-- every hard limit are here; a stable share of them is held out (global control
-- group first, then the treatment's own control share) and flagged, never synced.
with

primary_treatments as (
    select
        customer_key,
        rule_id,
        treatment_code,
        selection_method,
        expected_value,
        reason
    from {{ ref('int_activation__primary_treatments') }}
),

channel_choices as (
    select
        customer_key,
        channel
    from {{ ref('int_activation__channel_choices') }}
),

exclusions as (
    select distinct customer_key
    from {{ ref('treatment_exclusions') }}
),

customer_facts as (
    select
        customer_key,
        preferred_hour_utc,
        main_timezone,
        -- Days from the first possible send day (the day after as-of) to the
        -- customer's preferred weekday.
        mod(
            preferred_iso_weekday - {{ iso_weekday(dbt.dateadd('day', 1, as_of_date_literal())) }} + 7, 7
        ) as days_to_preferred_weekday
    from {{ ref('int_activation__customer_facts') }}
),

treatments as (
    select
        treatment_code,
        offer_code,
        offer_description,
        validity_days,
        control_share
    from {{ ref('activation_treatments') }}
),

eligible as (
    select
        primary_treatments.customer_key,
        primary_treatments.rule_id,
        primary_treatments.treatment_code,
        primary_treatments.selection_method,
        primary_treatments.expected_value,
        primary_treatments.reason,
        channel_choices.channel,
        treatments.offer_code,
        treatments.offer_description,
        treatments.validity_days,
        customer_facts.preferred_hour_utc,
        customer_facts.main_timezone,
        -- The next day when there is no preferred weekday or when waiting for
        -- it would outlive the treatment.
        case
            when customer_facts.days_to_preferred_weekday is null then 0
            when customer_facts.days_to_preferred_weekday >= treatments.validity_days then 0
            else customer_facts.days_to_preferred_weekday
        end as days_until_send,
        {{ holdout_draw('primary_treatments.customer_key', "'global'") }} < {{ var('activation_global_holdout_share') }}
            as is_global_holdout,
        {{ holdout_draw('primary_treatments.customer_key', 'primary_treatments.treatment_code') }}
        < treatments.control_share as is_treatment_holdout
    from primary_treatments
    inner join channel_choices on primary_treatments.customer_key = channel_choices.customer_key
    inner join treatments on primary_treatments.treatment_code = treatments.treatment_code
    left join customer_facts on primary_treatments.customer_key = customer_facts.customer_key
    left join exclusions on primary_treatments.customer_key = exclusions.customer_key
    where exclusions.customer_key is null
),

scheduled as (
    select
        eligible.customer_key,
        eligible.rule_id,
        eligible.treatment_code,
        eligible.selection_method,
        eligible.expected_value,
        eligible.reason,
        eligible.channel,
        eligible.offer_code,
        eligible.offer_description,
        eligible.validity_days,
        eligible.main_timezone,
        eligible.is_global_holdout,
        eligible.is_treatment_holdout,
        {{ dbt.dateadd(
            'hour',
            'coalesce(eligible.preferred_hour_utc, ' ~ var('activation_default_send_hour_utc') ~ ')',
            dbt.dateadd('day', 'eligible.days_until_send + 1', 'cast(' ~ as_of_date_literal() ~ ' as ' ~ dbt.type_timestamp() ~ ')')
        ) }} as send_window_start
    from eligible
),

final as (
    select
        {{ dbt.hash(dbt.concat([as_text(as_of_date_literal()), "'|'", "customer_key", "'|'", "treatment_code"])) }}
            as assignment_id,
        customer_key,
        treatment_code,
        channel,
        send_window_start,
        {{ dbt.dateadd('hour', var('activation_send_window_hours'), 'send_window_start') }} as send_window_end,
        coalesce(main_timezone, 'UTC') as send_timezone,
        offer_code,
        offer_description,
        reason,
        selection_method,
        rule_id,
        expected_value,
        is_global_holdout or is_treatment_holdout as is_holdout,
        case
            when is_global_holdout then 'global'
            when is_treatment_holdout then 'treatment'
        end as holdout_type,
        cast({{ dbt.dateadd('day', 'validity_days', as_of_date_literal()) }} as date) as valid_until,
        {{ as_of_date_literal() }} as run_date
    from scheduled
)

select * from final
