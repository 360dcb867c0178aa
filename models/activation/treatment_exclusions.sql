-- Why a customer gets no treatment this run, one row per customer and reason,
-- so every hard limit can be audited: no rule matched, no consenting channel
-- for the chosen treatment, contact pressure, or a suppression.
with

customers as (
    select customer_key
    from {{ ref('customer_360') }}
),

primary_treatments as (
    select
        customer_key,
        treatment_code,
        rule_id
    from {{ ref('int_activation__primary_treatments') }}
),

channel_choices as (
    select customer_key
    from {{ ref('int_activation__channel_choices') }}
),

contact_pressure as (
    select
        customer_key,
        contacts_in_window
    from {{ ref('int_activation__contact_pressure') }}
),

suppressions as (
    select
        customer_key,
        suppression_reason,
        suppressed_since
    from {{ ref('int_activation__suppressions') }}
),

no_rule as (
    select
        customers.customer_key,
        cast(null as {{ dbt.type_string() }}) as treatment_code,
        cast(null as {{ dbt.type_string() }}) as rule_id,
        'no_matching_rule' as exclusion_reason,
        'No rule in activation_rules matches the customer' as exclusion_detail
    from customers
    left join primary_treatments on customers.customer_key = primary_treatments.customer_key
    where primary_treatments.customer_key is null
),

no_consent as (
    select
        primary_treatments.customer_key,
        primary_treatments.treatment_code,
        primary_treatments.rule_id,
        'no_channel_consent' as exclusion_reason,
        'None of the treatment''s channels has the customer''s current consent' as exclusion_detail
    from primary_treatments
    left join channel_choices on primary_treatments.customer_key = channel_choices.customer_key
    where channel_choices.customer_key is null
),

too_many_contacts as (
    select
        primary_treatments.customer_key,
        primary_treatments.treatment_code,
        primary_treatments.rule_id,
        'contact_pressure' as exclusion_reason,
        {{ dbt.concat([
            as_text('contact_pressure.contacts_in_window'),
            "' messages in the last " ~ var('activation_contact_pressure_window_days')
            ~ " days; the limit is " ~ var('activation_contact_pressure_max') ~ "'"
        ]) }} as exclusion_detail
    from primary_treatments
    inner join contact_pressure on primary_treatments.customer_key = contact_pressure.customer_key
    -- The contact this run would add counts against the limit too.
    where contact_pressure.contacts_in_window + 1 > {{ var('activation_contact_pressure_max') }}
),

suppressed as (
    select
        primary_treatments.customer_key,
        primary_treatments.treatment_code,
        primary_treatments.rule_id,
        suppressions.suppression_reason as exclusion_reason,
        {{ dbt.concat(["'Suppressed since '", as_text('suppressions.suppressed_since')]) }} as exclusion_detail
    from primary_treatments
    inner join suppressions on primary_treatments.customer_key = suppressions.customer_key
),

exclusions as (
    select
        customer_key,
        treatment_code,
        rule_id,
        exclusion_reason,
        exclusion_detail
    from no_rule
    union all
    select
        customer_key,
        treatment_code,
        rule_id,
        exclusion_reason,
        exclusion_detail
    from no_consent
    union all
    select
        customer_key,
        treatment_code,
        rule_id,
        exclusion_reason,
        exclusion_detail
    from too_many_contacts
    union all
    select
        customer_key,
        treatment_code,
        rule_id,
        exclusion_reason,
        exclusion_detail
    from suppressed
),

final as (
    select
        {{ dbt.hash(dbt.concat(["customer_key", "'|'", "exclusion_reason"])) }} as exclusion_id,
        customer_key,
        treatment_code,
        rule_id,
        exclusion_reason,
        exclusion_detail,
        {{ as_of_date_literal() }} as run_date
    from exclusions
)

select * from final
