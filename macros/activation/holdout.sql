{#-
  Stable random numbers for holdouts. A customer's draw depends only on the
  text it is computed from (customer key, salt, treatment), so assignment never
  changes between runs unless the configuration (salt, share) does, and every
  engine computes the same draw: the first 32 bits of the MD5 of the text, as a
  fraction in [0, 1).
-#}

{% macro stable_uniform(expression) -%}
    {{ return(adapter.dispatch('stable_uniform', 'customer_intelligence')(expression)) }}
{%- endmacro %}

{% macro default__stable_uniform(expression) -%}
    (cast(conv(substr({{ dbt.hash(expression) }}, 1, 8), 16, 10) as bigint) / 4294967296.0)
{%- endmacro %}

{% macro duckdb__stable_uniform(expression) -%}
    (cast(('0x' || substr({{ dbt.hash(expression) }}, 1, 8)) as bigint) / 4294967296.0)
{%- endmacro %}


{#- The draw for one holdout: the customer key salted with the configured salt
    and a scope ('global' or a treatment code), so the global control group and
    each treatment's control group are independent of one another. -#}
{% macro holdout_draw(customer_key, scope) -%}
    {{ stable_uniform(dbt.concat([customer_key, "'|'", "'" ~ var('activation_holdout_salt') ~ "'", "'|'", scope])) }}
{%- endmacro %}
