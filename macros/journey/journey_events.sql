{#- Journey events from relations that each name the context columns they have
    (int_journey__engagement_events, journey_events); the others are null. -#}
{% macro journey_event_union(branches) -%}
    {{ union_padded(
        branches,
        keys=['event_type', 'customer_key', 'occurred_at', 'context_id'],
        padded={
            'context_channel': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'context_detail': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'context_value': 'cast(null as ' ~ dbt.type_float() ~ ')',
            'from_stage': 'cast(null as ' ~ dbt.type_string() ~ ')',
            'to_stage': 'cast(null as ' ~ dbt.type_string() ~ ')',
        },
    ) }}
{%- endmacro %}
