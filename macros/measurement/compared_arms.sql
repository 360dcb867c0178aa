{#-
  Which arm each assignment is compared in, one row per assignment and arm
  (assignment_key, arm_code), from a relation or CTE with assignment_key,
  campaign_id, treatment_code and is_treated:
  - a treated row is its treatment code's arm;
  - a control row carrying a treatment code (the one-control-per-arm form)
    is the control of that code only;
  - a shared control (a control row without a treatment code, external
    campaigns only) is the control of every arm of its campaign, i.e. of every
    distinct treatment code of the campaign's treatment rows; it is counted
    once in each of those comparisons.
  int_measurement__assignments lists the arms (compared_arms),
  int_measurement__effect_sums and the uplift features fan out by it.
-#}
{% macro measurement_compared_arms(relation) -%}
    select
        assignment_key,
        treatment_code as arm_code
    from {{ relation }}
    where treatment_code is not null
    union all
    select
        shared.assignment_key,
        arms.treatment_code as arm_code
    from {{ relation }} as shared
    inner join (
        select distinct
            campaign_id,
            treatment_code
        from {{ relation }}
        where is_treated
    ) as arms on shared.campaign_id = arms.campaign_id
    where not shared.is_treated and shared.treatment_code is null
{%- endmacro %}
