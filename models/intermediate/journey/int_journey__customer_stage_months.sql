{#- Lean storage (docs/scale.md): a view, computed by its few readers (in seconds at
    20k customers); as a table it took 19.5 MiB there. -#}
{{ config(materialized='view') }}
{#-
  What each customer did under each lifecycle stage in each month, one row per
  customer, month and stage with at least one fact, summed over the facts:
  - customers: in the stage at month end (int_journey__customer_months);
  - customers_at_start and their moves by month end: retained (engaged at
    month end), churned (churned at month end, not at start), converted
    (onboarding -> loyalty), reactivated (churned at start, bought in the month);
  - entries and exits: spells of the stage starting or ending in the month;
  - purchase days, orders, revenue and gross margin under the stage the
    customer is in on the purchase day (after it);
  - NPS answers, promoters and detractors under the stage on the answer day.
  journey_kpis rolls these up by needs segment and value tier.
-#}
{%- set measures = journey_stage_month_measures() -%}
with

customer_months as (
    select
        month_start,
        customer_key,
        stage_at_start,
        stage_at_end,
        phase_at_start,
        churned_at_start,
        phase_at_end,
        engaged_at_end,
        churned_at_end,
        purchased_in_month
    from {{ ref('int_journey__customer_months') }}
),

spells as (
    select
        customer_key,
        lifecycle_stage,
        valid_from,
        valid_to
    from {{ ref('customer_lifecycle_history') }}
),

purchase_days as (
    select
        customer_key,
        purchase_date,
        orders_count,
        net_revenue,
        gross_margin
    from {{ ref('int_journey__purchase_days') }}
),

survey_responses as (
    select
        customer_key,
        nps_category,
        cast(answered_at as date) as answered_date
    from {{ ref('int_customer__survey_responses') }}
),

end_of_month_facts as (
    select
        month_start,
        customer_key,
        stage_at_end as lifecycle_stage,
        1 as customers
    from customer_months
),

start_of_month_facts as (
    select
        month_start,
        customer_key,
        stage_at_start as lifecycle_stage,
        1 as customers_at_start,
        case when engaged_at_end then 1 else 0 end as retained_customers,
        case when churned_at_end and not churned_at_start then 1 else 0 end as churned_customers,
        case when phase_at_start = 'onboarding' and phase_at_end = 'loyalty' then 1 else 0 end as converted_customers,
        case when churned_at_start and purchased_in_month then 1 else 0 end as reactivated_customers
    from customer_months
    where stage_at_start is not null
),

entry_facts as (
    select
        cast({{ dbt.date_trunc('month', 'valid_from') }} as date) as month_start,
        customer_key,
        lifecycle_stage,
        1 as entries
    from spells
),

exit_facts as (
    select
        cast({{ dbt.date_trunc('month', 'valid_to') }} as date) as month_start,
        customer_key,
        lifecycle_stage,
        1 as exits
    from spells
    where valid_to is not null
),

purchase_facts as (
    select
        cast({{ dbt.date_trunc('month', 'purchase_days.purchase_date') }} as date) as month_start,
        purchase_days.customer_key,
        spells.lifecycle_stage,
        1 as purchase_days,
        purchase_days.orders_count as orders,
        purchase_days.net_revenue as revenue,
        purchase_days.gross_margin
    from purchase_days
    inner join spells
        on
            purchase_days.customer_key = spells.customer_key
            and {{ journey_in_spell('purchase_days.purchase_date') }}
),

nps_facts as (
    select
        cast({{ dbt.date_trunc('month', 'survey_responses.answered_date') }} as date) as month_start,
        survey_responses.customer_key,
        spells.lifecycle_stage,
        1 as nps_responses,
        case when survey_responses.nps_category = 'promoter' then 1 else 0 end as nps_promoters,
        case when survey_responses.nps_category = 'detractor' then 1 else 0 end as nps_detractors
    from survey_responses
    inner join spells
        on
            survey_responses.customer_key = spells.customer_key
            and {{ journey_in_spell('survey_responses.answered_date') }}
),

-- Each kind of fact names only the measures it sets (macros/sql/union_padded.sql).
facts as (
    {{ union_padded(
        {
            'end_of_month_facts': ['customers'],
            'start_of_month_facts': [
                'customers_at_start', 'retained_customers', 'churned_customers',
                'converted_customers', 'reactivated_customers',
            ],
            'entry_facts': ['entries'],
            'exit_facts': ['exits'],
            'purchase_facts': ['purchase_days', 'orders', 'revenue', 'gross_margin'],
            'nps_facts': ['nps_responses', 'nps_promoters', 'nps_detractors'],
        },
        keys=['month_start', 'customer_key', 'lifecycle_stage'],
        padded=measures,
        default='0',
    ) }}
),

final as (
    select
        {{ dbt.concat(['customer_key', "'|'", as_text('month_start'), "'|'", 'lifecycle_stage']) }}
            as customer_stage_month_id,
        month_start,
        customer_key,
        lifecycle_stage,
        {%- for measure in measures %}
            sum({{ measure }}) as {{ measure }}
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from facts
    group by month_start, customer_key, lifecycle_stage
)

select * from final
