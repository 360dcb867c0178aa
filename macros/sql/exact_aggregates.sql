{#-
  Sums and means of floating-point values that do not depend on the order rows reach the
  aggregate. A double sum rounds after every addition, so its last bits change with the
  order, and the order changes with thread scheduling (parallel joins and scans), so two
  builds of the same data could differ. These round each term to `scale` decimal places
  (default 9: far below any money or rate the warehouse reports) and add the terms as exact
  decimals, then return a double: the same result in any order, on every engine.
  Use them wherever a float is summed into a figure that is stored; sums of decimals
  (money) and integers (counts) are exact already. docs/scale.md "Identical reruns".
-#}
{% macro exact_sum(expression, scale=9) -%}
    cast(sum(cast({{ expression }} as decimal(38, {{ scale }}))) as {{ type_double() }})
{%- endmacro %}

{% macro exact_avg(expression, scale=9) -%}
    cast(
        sum(cast({{ expression }} as decimal(38, {{ scale }})))
        / nullif(count({{ expression }}), 0)
        as {{ type_double() }}
    )
{%- endmacro %}
