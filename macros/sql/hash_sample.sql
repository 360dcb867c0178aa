{#- The first `size` keys of a relation in the order of their hash: a
    deterministic sample (the same keys on every run and engine) that does not
    grow with the relation. Rows: the key column only. -#}
{% macro hash_sample(relation, size, key='customer_key') -%}
    select {{ key }}
    from (
        select
            {{ key }},
            row_number() over (order by {{ dbt.hash(key) }}, {{ key }}) as sample_rank
        from {{ relation }}
    ) as ranked
    where sample_rank <= {{ size }}
{%- endmacro %}
