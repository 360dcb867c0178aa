{#- The instant falls in the assignment's response window [assigned_at,
    response_window_end) (int_measurement__assignments). -#}
{% macro measurement_in_response_window(instant, assignments='assignments') -%}
    {{ assignments }}.assigned_at <= {{ instant }}
    and {{ assignments }}.response_window_end > {{ instant }}
{%- endmacro %}
