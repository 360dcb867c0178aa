{#- The additive measures of journey_kpis that int_journey__customer_stage_months
    counts per customer, month and stage, in the order of the mart's columns
    (journey_kpis adds the CLV sums from the value mart). -#}
{% macro journey_stage_month_measures() -%}
    {{ return([
        'customers', 'customers_at_start', 'entries', 'exits',
        'retained_customers', 'churned_customers', 'converted_customers', 'reactivated_customers',
        'purchase_days', 'orders', 'revenue', 'gross_margin',
        'nps_responses', 'nps_promoters', 'nps_detractors',
    ]) }}
{%- endmacro %}
