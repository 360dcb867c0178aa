{#-
  Quantile score 1..buckets of a measure over the rows of the query (e.g.
  RFM quintiles), higher measure -> higher score.
  Ties rule: rows with equal values get the same score, the one of the
  lowest rank in their tie group (SQL rank()): score = 1 + floor(buckets *
  (rank - 1) / rows). A large tie group (many one-time buyers) therefore
  fills its quintile and may skip the next ones; scores never split equal
  customers, and the result does not depend on row order.
  Pass descending=true when a lower value is better (days since the last
  purchase): then the lowest value gets the highest score.
-#}
{% macro value_quantile_score(measure, buckets=5, descending=false) -%}
    (
        1 + cast(floor(
            {{ buckets }} * cast(
                rank() over (order by {{ measure }} {{ 'desc' if descending else 'asc' }}) - 1
                as {{ dbt.type_float() }}
            )
            / cast(count(*) over () as {{ dbt.type_float() }})
        ) as {{ dbt.type_int() }})
    )
{%- endmacro %}
