{#-
  Why a figure of treatment_effects is null, so a null is never silent
  (the model's tests accept a null interval or ROI exactly when its reason is
  given).
-#}

{#- Why a metric's uplift interval (uplift_lower/_upper, and the incremental
    figures and ROI bounds derived from it) is null; null when it is not.
    Rates always have an Agresti-Caffo interval once both arms are large
    enough; a Welch interval needs variance in at least one arm (both arms'
    values all equal, e.g. no revenue at all in a low-conversion cell, give
    a standard error of 0 and no degrees of freedom). The variance is
    clustered by customer, so an arm needs two customers, whatever its
    number of assignments. A metric whose outcome
    is unknown for some assignment of the cell (margin, when an order has no
    known cost) is not estimated at all. -#}
{% macro measurement_interval_null_reason(metric, has_enough_data, is_known, var_t, var_c, customers_t, customers_c) -%}
    {%- set min_group = [var('measurement_min_group_size', 50) | int, 2] | max -%}
    case
        when not {{ has_enough_data }}
            then 'below measurement_min_group_size: fewer than {{ min_group }} customers in an arm'
        when not {{ is_known }} then '{{ metric.outcome }} unknown for some assignments (an order without a known cost)'
        when {{ customers_t }} < 2 or {{ customers_c }} < 2
            then 'fewer than 2 customers in an arm: no variance clustered by customer'
        {%- if metric.kind == 'mean' %}
            when {{ var_t }} = 0 and {{ var_c }} = 0 then 'no variance in either arm'
        {%- endif %}
    end
{%- endmacro %}


{#- Why the ROI (roi, roi_lower, roi_upper) is null; null when it is not.
    A treatment code that is not in seeds/activation_treatments (an outside
    experiment's arm) is measured all the same, without a cost. -#}
{% macro measurement_roi_null_reason(is_in_catalog, cost_per_contact, has_enough_data, is_margin_known) -%}
    case
        when not {{ is_in_catalog }} then 'treatment not in activation catalog: no cost'
        when {{ cost_per_contact }} is null then 'no cost_per_contact in the activation catalog'
        when {{ cost_per_contact }} = 0 then 'cost_per_contact is 0: ROI undefined'
        when not {{ has_enough_data }} then 'below measurement_min_group_size: no uplift'
        when not {{ is_margin_known }} then 'margin unknown for some assignments (an order without a known cost)'
    end
{%- endmacro %}
